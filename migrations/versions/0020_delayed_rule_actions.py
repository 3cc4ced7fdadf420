"""delayed rule actions

Rules' ``delay(min, max, action)``: ``rule_delayed_actions`` holds each scheduled action until its due time (a
partial index on the pending ones' due times: the runner's claim reads it), then its result. ``cases.priority_floor``
is the least priority a rule's ``open_case(queue=..., priority=...)`` gave a case: re-scoring never drops below it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 08:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("priority_floor", sa.Integer(), nullable=True))
    op.create_table(
        "rule_delayed_actions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("rule_id", sa.UUID(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("action_kind", sa.String(length=32), nullable=False),
        sa.Column("action", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), server_default=sa.text("'PENDING'"), nullable=False),
        sa.Column("outcome", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('PENDING', 'DONE', 'DROPPED', 'FAILED')", name=op.f("ck_rule_delayed_actions_state")
        ),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"], name=op.f("fk_rule_delayed_actions_rule_id_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_delayed_actions")),
        sa.UniqueConstraint(
            "rule_id", "event_id", "position", name=op.f("uq_rule_delayed_actions_rule_id_event_id_position")
        ),
    )
    op.create_index(op.f("ix_rule_delayed_actions_region"), "rule_delayed_actions", ["region"], unique=False)
    op.create_index(
        "ix_rule_delayed_actions_due",
        "rule_delayed_actions",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("state = 'PENDING'"),
    )
    op.create_index("ix_rule_delayed_actions_rule", "rule_delayed_actions", ["rule_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rule_delayed_actions_rule", table_name="rule_delayed_actions")
    op.drop_index(
        "ix_rule_delayed_actions_due", table_name="rule_delayed_actions", postgresql_where=sa.text("state = 'PENDING'")
    )
    op.drop_index(op.f("ix_rule_delayed_actions_region"), table_name="rule_delayed_actions")
    op.drop_table("rule_delayed_actions")
    op.drop_column("cases", "priority_floor")
