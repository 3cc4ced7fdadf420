"""What makes the rules' evaluation at least once and a second evaluation harmless.

``rule_backlog``: one row per accepted batch (``submitEvents``, ``submitSignal``, ``submitReport(s)``, a consumed
NATS batch) whose events still need the rules; deleted once they ran. ``event_ids`` names stored platform events
(rebuilt from ``platform_events``); ``events`` carries events that are not stored as such (a signal's scores, a
report's events) as the request built them. Bookkeeping, like outbox rows: not audited (what was accepted is).

``rule_action_takes``: one row per LIVE action a rule took on an event (the ``nth`` of its kind in the hit),
written in the action's own transaction with the daily tallies it counted: an event evaluated again finds it and
neither acts nor counts twice. ``rule_hits`` gets its natural key: one hit per rule and event.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from persistence.metadata import metadata
from persistence.tables.columns import pk, tz
from persistence.tables.rules import rule_hits

rule_backlog = sa.Table(
    "rule_backlog",
    metadata,
    pk(),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("event_ids", ARRAY(UUID(as_uuid=True)), nullable=True),
    sa.Column("events", JSONB, nullable=True),
    sa.Column("request_id", sa.String(200), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
    tz("created_at"),
    sa.Index("ix_rule_backlog_created", "created_at"),
)

rule_action_takes = sa.Table(
    "rule_action_takes",
    metadata,
    sa.Column("rule_id", UUID(as_uuid=True), nullable=False),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    sa.Column("action_kind", sa.String(32), nullable=False),
    sa.Column("nth", sa.Integer, nullable=False),
    sa.Column("result", JSONB, nullable=False),
    tz("created_at", index=True),
    sa.PrimaryKeyConstraint("rule_id", "event_id", "action_kind", "nth"),
)

ix_rule_hits_rule_event = sa.Index(
    "uq_rule_hits_rule_event",
    rule_hits.c.rule_id,
    rule_hits.c.event_id,
    unique=True,
    postgresql_where=rule_hits.c.event_id.isnot(None),
)
