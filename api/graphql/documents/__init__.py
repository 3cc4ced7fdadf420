"""Trusted documents: register operations ahead of time, list them."""
