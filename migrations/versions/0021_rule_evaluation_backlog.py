"""rule evaluation backlog

The rules' evaluation becomes at least once: ``rule_backlog`` holds one row per accepted batch whose events still
need the rules (deleted once they ran; a sweeper re-evaluates the rows left behind), and ``rule_action_takes``
records each LIVE action a rule took on an event, so an event evaluated again neither acts nor counts twice.
``rule_hits`` gets its natural key, one hit per rule and event (``uq_rule_hits_rule_event``): a hit recorded
twice before this revision keeps its first row (a reviewed one is kept whatever its place).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUPLICATE_HITS = """
DELETE FROM rule_hits h USING (
  SELECT id, row_number() OVER (
    PARTITION BY rule_id, event_id
    ORDER BY (EXISTS (SELECT 1 FROM rule_hit_reviews r WHERE r.hit_id = rule_hits.id)) DESC, created_at, id
  ) AS n
  FROM rule_hits WHERE event_id IS NOT NULL
) d
WHERE h.id = d.id AND d.n > 1 AND NOT EXISTS (SELECT 1 FROM rule_hit_reviews r WHERE r.hit_id = h.id)
"""


def upgrade() -> None:
    op.create_table(
        "rule_backlog",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("event_ids", postgresql.ARRAY(sa.UUID()), nullable=True),
        sa.Column("events", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_backlog")),
    )
    op.create_index("ix_rule_backlog_created", "rule_backlog", ["created_at"], unique=False)
    op.create_table(
        "rule_action_takes",
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("action_kind", sa.String(length=32), nullable=False),
        sa.Column("nth", sa.Integer(), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "event_id", "action_kind", "nth", name=op.f("pk_rule_action_takes")),
    )
    op.create_index(op.f("ix_rule_action_takes_created_at"), "rule_action_takes", ["created_at"], unique=False)
    op.execute(_DUPLICATE_HITS)
    op.create_index(
        "uq_rule_hits_rule_event",
        "rule_hits",
        ["rule_id", "event_id"],
        unique=True,
        postgresql_where=sa.text("event_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_rule_hits_rule_event", table_name="rule_hits", postgresql_where=sa.text("event_id IS NOT NULL"))
    op.drop_index(op.f("ix_rule_action_takes_created_at"), table_name="rule_action_takes")
    op.drop_table("rule_action_takes")
    op.drop_index("ix_rule_backlog_created", table_name="rule_backlog")
    op.drop_table("rule_backlog")
