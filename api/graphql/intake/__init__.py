"""Intake: accounts, content and ads pushed by platform services; reports from users, flaggers and staff."""
