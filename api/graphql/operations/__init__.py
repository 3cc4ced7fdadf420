"""Moderation operations: queues, claiming the next case, QA reviews, rerouting, and the ops lead's metrics."""
