"""Measuring rules and trying them on the past: audit sample rates, reviews of sampled hits, per-rule snoozes,
hit-rate alarms, and backtest jobs with the hits they found (never mixed with live ``rule_hits``).

A rule version's audit rate is the row of ``rule_audit_rates`` with the highest ``from_version`` at or below it
(set once, it holds for later versions until changed). A hit is in the audit sample when the sample bucket of its
id is below that rate (``domain.qa.sample_bucket``): no flag is stored, the review row is written when a person
reviews it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from persistence.metadata import metadata
from persistence.tables.columns import audit_columns, fk, pk, region, tz

rule_audit_rates = sa.Table(
    "rule_audit_rates",
    metadata,
    sa.Column("rule_id", UUID(as_uuid=True), sa.ForeignKey("rules.id"), nullable=False),
    sa.Column("from_version", sa.Integer, nullable=False),
    sa.Column("sample_bp", sa.Integer, nullable=False),
    sa.Column("author_id", sa.String(200), nullable=False),
    tz("created_at"),
    sa.PrimaryKeyConstraint("rule_id", "from_version"),
    sa.CheckConstraint("sample_bp BETWEEN 0 AND 10000", name="sample_bp"),
)

rule_hit_reviews = sa.Table(
    "rule_hit_reviews",
    metadata,
    sa.Column("hit_id", UUID(as_uuid=True), sa.ForeignKey("rule_hits.id"), primary_key=True),
    fk("rule_id", "rules.id", index=False),
    sa.Column("rule_version", sa.Integer, nullable=False),
    region(),
    sa.Column("correct", sa.Boolean, nullable=False),
    sa.Column("notes", sa.Text, nullable=True),
    sa.Column("reviewer_id", sa.String(200), nullable=False),
    tz("reviewed_at"),
    sa.Index("ix_rule_hit_reviews_rule", "rule_id", "rule_version"),
)

rule_snoozes = sa.Table(
    "rule_snoozes",
    metadata,
    sa.Column("rule_id", UUID(as_uuid=True), sa.ForeignKey("rules.id"), nullable=False),
    sa.Column("region", sa.String(8), nullable=False),
    sa.Column("entity_kind", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(200), nullable=False),
    tz("until"),
    sa.Column("author_id", sa.String(200), nullable=False),
    tz("created_at"),
    sa.PrimaryKeyConstraint("rule_id", "region", "entity_kind", "entity_id"),
    # the snoozes of a batch's entities, whatever the rule (``rule_stats.rule_snoozed``)
    sa.Index("ix_rule_snoozes_entity", "region", "entity_kind", "entity_id"),
)

rule_alarms = sa.Table(
    "rule_alarms",
    metadata,
    pk(),
    fk("rule_id", "rules.id", index=False),
    sa.Column("rule_version", sa.Integer, nullable=False),
    region(),
    # The hour the alarm is about (one alarm per rule and hour).
    tz("hour"),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("baseline", sa.Float, nullable=False),
    tz("raised_at"),
    sa.UniqueConstraint("rule_id", "hour"),
)

BACKTEST_STATES = ("RUNNING", "COMPLETED", "CANCELLED", "FAILED")

rule_backtests = sa.Table(
    "rule_backtests",
    metadata,
    pk(),
    fk("rule_id", "rules.id", index=False),
    sa.Column("rule_version", sa.Integer, nullable=False),
    region(),
    sa.Column("state", sa.String(16), nullable=False),
    tz("period_start"),
    tz("period_end"),
    # Keyset position of the last event read: (occurred_at, id).
    tz("cursor_at", nullable=True),
    sa.Column("cursor_id", UUID(as_uuid=True), nullable=True),
    sa.Column("scanned", sa.Integer, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    # Past human decisions on the hits' subjects: how many were decided, and how many VIOLATING (and standing).
    sa.Column("decided", sa.Integer, nullable=True),
    sa.Column("confirmed", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("actor_id", sa.String(200), nullable=False),
    sa.Column("principal_kind", sa.String(16), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    tz("lease_expires_at", nullable=True),
    tz("finished_at", nullable=True),
    sa.Column("retro_job_id", UUID(as_uuid=True), nullable=True),
    # When ``retroactRule`` applied the version (its bulk job above, if the version decides): once per backtest.
    tz("retroacted_at", nullable=True),
    *audit_columns(),
    sa.CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in BACKTEST_STATES) + ")", name="state"),
    sa.Index("ix_rule_backtests_running", "lease_expires_at", postgresql_where=sa.text("state = 'RUNNING'")),
)

rule_backtest_hits = sa.Table(
    "rule_backtest_hits",
    metadata,
    sa.Column("backtest_id", UUID(as_uuid=True), sa.ForeignKey("rule_backtests.id"), nullable=False),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    tz("occurred_at"),
    sa.Column("subject_kind", sa.String(32), nullable=True),
    sa.Column("subject_id", sa.String(200), nullable=True),
    sa.Column("actions", JSONB, nullable=False),
    sa.PrimaryKeyConstraint("backtest_id", "event_id"),
)
