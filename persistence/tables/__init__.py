"""All tables, one module per aggregate family; importing this package registers every table on `metadata`."""

from persistence.metadata import metadata
from persistence.tables import (
    audit,
    auth,
    automation,
    bulk,
    cases,
    documents,
    dsa_reporting,
    moderated,
    operations,
    outbox,
    outcomes,
    policies,
)

__all__ = [
    "audit",
    "auth",
    "automation",
    "bulk",
    "cases",
    "documents",
    "dsa_reporting",
    "metadata",
    "moderated",
    "operations",
    "outbox",
    "outcomes",
    "policies",
]
