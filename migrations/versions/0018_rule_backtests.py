"""rule backtests

Measuring rules and trying them on the past: per-rule audit sample rates (from a version on), reviews of sampled
hits, per-rule snoozes of an entity after a human review, hit-rate alarms (one per rule and hour), and backtest
jobs (lease, keyset cursor, progress) with the hits they found, kept apart from the live ``rule_hits``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 05:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rule_alarms",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_rule_alarms_rule_id_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_alarms")),
        sa.UniqueConstraint("rule_id", "hour", name=op.f("uq_rule_alarms_rule_id_hour")),
    )
    op.create_index(op.f("ix_rule_alarms_region"), "rule_alarms", ["region"], unique=False)
    op.create_table(
        "rule_audit_rates",
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("sample_bp", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sample_bp BETWEEN 0 AND 10000", name=op.f("ck_rule_audit_rates_sample_bp")),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_rule_audit_rates_rule_id_rules")),
        sa.PrimaryKeyConstraint("rule_id", "from_version", name=op.f("pk_rule_audit_rates")),
    )
    op.create_table(
        "rule_backtests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cursor_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cursor_id", sa.UUID(), nullable=True),
        sa.Column("scanned", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("decided", sa.Integer(), nullable=True),
        sa.Column("confirmed", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column("principal_kind", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retro_job_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "state IN ('RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED')", name=op.f("ck_rule_backtests_state")
        ),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_rule_backtests_rule_id_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_backtests")),
    )
    op.create_index(op.f("ix_rule_backtests_region"), "rule_backtests", ["region"], unique=False)
    op.create_index(
        "ix_rule_backtests_running",
        "rule_backtests",
        ["lease_expires_at"],
        unique=False,
        postgresql_where=sa.text("state = 'RUNNING'"),
    )
    op.create_table(
        "rule_snoozes",
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("entity_kind", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_rule_snoozes_rule_id_rules")),
        sa.PrimaryKeyConstraint("rule_id", "region", "entity_kind", "entity_id", name=op.f("pk_rule_snoozes")),
    )
    op.create_table(
        "rule_backtest_hits",
        sa.Column("backtest_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject_kind", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.String(length=200), nullable=True),
        sa.Column("actions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["backtest_id"], ["rule_backtests.id"], name=op.f("fk_rule_backtest_hits_backtest_id_rule_backtests")
        ),
        sa.PrimaryKeyConstraint("backtest_id", "event_id", name=op.f("pk_rule_backtest_hits")),
    )
    op.create_table(
        "rule_hit_reviews",
        sa.Column("hit_id", sa.UUID(), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("reviewer_id", sa.String(length=200), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hit_id"], ["rule_hits.id"], name=op.f("fk_rule_hit_reviews_hit_id_rule_hits")),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_rule_hit_reviews_rule_id_rules")),
        sa.PrimaryKeyConstraint("hit_id", name=op.f("pk_rule_hit_reviews")),
    )
    op.create_index(op.f("ix_rule_hit_reviews_region"), "rule_hit_reviews", ["region"], unique=False)
    op.create_index("ix_rule_hit_reviews_rule", "rule_hit_reviews", ["rule_id", "rule_version"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rule_hit_reviews_rule", table_name="rule_hit_reviews")
    op.drop_index(op.f("ix_rule_hit_reviews_region"), table_name="rule_hit_reviews")
    op.drop_table("rule_hit_reviews")
    op.drop_table("rule_backtest_hits")
    op.drop_table("rule_snoozes")
    op.drop_index(
        "ix_rule_backtests_running", table_name="rule_backtests", postgresql_where=sa.text("state = 'RUNNING'")
    )
    op.drop_index(op.f("ix_rule_backtests_region"), table_name="rule_backtests")
    op.drop_table("rule_backtests")
    op.drop_table("rule_audit_rates")
    op.drop_index(op.f("ix_rule_alarms_region"), table_name="rule_alarms")
    op.drop_table("rule_alarms")
