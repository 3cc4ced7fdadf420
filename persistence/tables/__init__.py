"""All tables, one module per aggregate; importing this package registers every table on `metadata`."""

from persistence.metadata import metadata
from persistence.tables import audit, auth

__all__ = ["audit", "auth", "metadata"]
