"""Platform events in: ``submitEvents``."""
