"""Enforcement rules (versions, lifecycle), named lists (versions, entries), the hits rules record, the labels
they put on entities, the daily action tallies behind caps and circuit breakers, and per-entity snoozes.

Every change to a rule is a new row of ``rule_versions`` (its text, state and settings as of that version); the
``rules`` row points at the version in force. A list's entries carry the version that added them and the one that
removed them, so any version of a list is a query and an edit writes only what changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from persistence.metadata import metadata
from persistence.tables.columns import audit_columns, fk, pk, region, tz

RULE_STATES = ("DRAFT", "SHADOW", "LIVE", "DISABLED")
_STATE_CHECK = "state IN (" + ", ".join(f"'{s}'" for s in RULE_STATES) + ")"

rules = sa.Table(
    "rules",
    metadata,
    pk(),
    region(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("current_version", sa.Integer, nullable=False),
    *audit_columns(),
    sa.UniqueConstraint("region", "name"),
    sa.CheckConstraint(_STATE_CHECK, name="state"),
    sa.Index("ix_rules_region_created", "region", "created_at", "id"),
)

rule_versions = sa.Table(
    "rule_versions",
    metadata,
    pk(),
    fk("rule_id", "rules.id", index=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    fk("policy_id", "policies.id", nullable=True),
    sa.Column("daily_action_cap", sa.Integer, nullable=True),
    tz("expires_at", nullable=True),
    sa.Column("author_id", sa.String(200), nullable=False),
    # Set on the rules migrated from an automation rule (migration 0012): the rule they replace.
    sa.Column("migrated_from", UUID(as_uuid=True), nullable=True),
    tz("created_at"),
    sa.UniqueConstraint("rule_id", "number"),
    sa.CheckConstraint(_STATE_CHECK, name="state"),
)

named_lists = sa.Table(
    "named_lists",
    metadata,
    pk(),
    region(),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("entry_count", sa.Integer, nullable=False),
    *audit_columns(),
    sa.UniqueConstraint("region", "name"),
    sa.CheckConstraint("kind IN ('keyword', 'domain', 'url')", name="kind"),
)

named_list_versions = sa.Table(
    "named_list_versions",
    metadata,
    pk(),
    fk("list_id", "named_lists.id", index=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("added", sa.Integer, nullable=False),
    sa.Column("removed", sa.Integer, nullable=False),
    sa.Column("entry_count", sa.Integer, nullable=False),
    sa.Column("author_id", sa.String(200), nullable=False),
    tz("created_at"),
    sa.UniqueConstraint("list_id", "number"),
)

named_list_entries = sa.Table(
    "named_list_entries",
    metadata,
    sa.Column("list_id", UUID(as_uuid=True), sa.ForeignKey("named_lists.id"), nullable=False),
    sa.Column("value", sa.String(400), nullable=False),
    sa.Column("added_in", sa.Integer, nullable=False),
    sa.Column("removed_in", sa.Integer, nullable=True),
    sa.PrimaryKeyConstraint("list_id", "value", "added_in"),
    sa.Index("ix_named_list_entries_current", "list_id", postgresql_where=sa.text("removed_in IS NULL")),
)

rule_hits = sa.Table(
    "rule_hits",
    metadata,
    pk(),
    fk("rule_id", "rules.id", index=False),
    sa.Column("rule_version", sa.Integer, nullable=False),
    region(),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("event_id", UUID(as_uuid=True), nullable=True),
    tz("event_occurred_at"),
    sa.Column("subject_kind", sa.String(32), nullable=True),
    sa.Column("subject_id", sa.String(200), nullable=True),
    # [{"action": ..., "outcome": "TAKEN" | "WITHHELD", "reason": ...}, ...]
    sa.Column("actions", JSONB, nullable=False),
    tz("created_at"),
    sa.CheckConstraint("mode IN ('SHADOW', 'LIVE')", name="mode"),
    sa.Index("ix_rule_hits_rule_created", "rule_id", "created_at", "id"),
)

labels = sa.Table(
    "labels",
    metadata,
    pk(),
    region(),
    sa.Column("entity_kind", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(200), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    fk("rule_id", "rules.id", nullable=True, index=False),
    sa.Column("rule_version", sa.Integer, nullable=True),
    tz("expires_at", nullable=True),
    *audit_columns(),
    sa.UniqueConstraint("region", "entity_kind", "entity_id", "name"),
)

rule_action_tallies = sa.Table(
    "rule_action_tallies",
    metadata,
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("region", sa.String(8), nullable=False),
    # The rule's id for its own daily cap; the nil UUID for the region's circuit breaker of the action kind.
    sa.Column("rule_id", UUID(as_uuid=True), nullable=False),
    sa.Column("action_kind", sa.String(32), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("day", "region", "rule_id", "action_kind"),
)

entity_snoozes = sa.Table(
    "entity_snoozes",
    metadata,
    sa.Column("region", sa.String(8), nullable=False),
    sa.Column("entity_kind", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(200), nullable=False),
    tz("until"),
    tz("created_at"),
    sa.PrimaryKeyConstraint("region", "entity_kind", "entity_id"),
)

DELAYED_STATES = ("PENDING", "DONE", "DROPPED", "FAILED")

# A LIVE hit's ``delay(min, max, action)``: the action waits here until ``due_at`` (drawn in its window), then
# runs once (``persistence.delayed_actions``): DONE (taken, or withheld and enqueued), DROPPED (the rule left LIVE,
# expired, or the subject was snoozed meanwhile) or FAILED, with the result in ``outcome``.
rule_delayed_actions = sa.Table(
    "rule_delayed_actions",
    metadata,
    pk(),
    fk("rule_id", "rules.id", index=False),
    sa.Column("rule_version", sa.Integer, nullable=False),
    region(),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    # The event as acting on it needs it: {"type", "entities", "occurred_at", "idempotency_key"}.
    sa.Column("event", JSONB, nullable=False),
    sa.Column("action_kind", sa.String(32), nullable=False),
    sa.Column("action", JSONB, nullable=False),  # domain.rules.actions.to_json
    tz("due_at"),
    sa.Column("state", sa.String(16), nullable=False, server_default=sa.text("'PENDING'")),
    sa.Column("outcome", JSONB, nullable=True),
    tz("created_at"),
    tz("executed_at", nullable=True),
    sa.UniqueConstraint("rule_id", "event_id", "position"),
    sa.CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in DELAYED_STATES) + ")", name="state"),
    sa.Index("ix_rule_delayed_actions_due", "due_at", postgresql_where=sa.text("state = 'PENDING'")),
    sa.Index("ix_rule_delayed_actions_rule", "rule_id", "state"),
    # The retention's deletes start at the oldest finished row (migration 0022).
    sa.Index("ix_rule_delayed_actions_finished", "executed_at", postgresql_where=sa.text("state <> 'PENDING'")),
)
