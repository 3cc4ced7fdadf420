"""All tables, one module per aggregate family; importing this package registers every table on `metadata`."""

from persistence.metadata import metadata
from persistence.tables import (
    audit,
    auth,
    automation,
    backtests,
    bulk,
    cases,
    counters,
    documents,
    dsa_reporting,
    events,
    moderated,
    operations,
    outbox,
    outcomes,
    policies,
    rule_backlog,
    rules,
)

__all__ = [
    "audit",
    "auth",
    "automation",
    "backtests",
    "bulk",
    "cases",
    "counters",
    "documents",
    "dsa_reporting",
    "events",
    "metadata",
    "moderated",
    "operations",
    "outbox",
    "outcomes",
    "policies",
    "rule_backlog",
    "rules",
]
