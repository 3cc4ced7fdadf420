"""delayed rule actions

Rules' ``delay(min, max, action)``: ``rule_delayed_actions`` holds each scheduled action until its due time (a
partial index on the pending ones' due times: the runner's claim reads it), then its result. ``cases.priority_floor``
is the least priority a rule's ``open_case(queue=..., priority=...)`` gave a case: re-scoring never drops below it.

``open_case(queue=...)`` now names a real queue of the rule's region (before, the queue was ignored and routing
picked one). The rules migrated from automation rules by 0012 said ``open_case(queue="automation", priority=50)``
for their enqueue band, meaning what the automation rule does: an AUTOMATED report whose case routing queues. That is
``hold()`` now, so each such rule whose version in force still says it gets a new version saying ``hold()`` (same
state and settings, author ``migration:0020``): versions are never changed, and a person's edits are left alone.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 08:40:00.000000
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


MIGRATED_ENQUEUE = 'open_case(queue="automation", priority=50)'
AUTHOR = "migration:0020"


def _hold_migrated_enqueue_rules() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT v.* FROM rules r JOIN rule_versions v ON v.rule_id = r.id AND v.number = r.current_version "
            "WHERE v.migrated_from IS NOT NULL AND v.author_id = 'migration:0012' AND position(:open IN v.source) > 0"
        ),
        {"open": MIGRATED_ENQUEUE},
    ).mappings()
    now = datetime.now(UTC)
    for row in list(rows):
        number = row["number"] + 1
        bind.execute(
            sa.text(
                "INSERT INTO rule_versions (id, rule_id, number, state, source, description, policy_id, "
                "daily_action_cap, expires_at, author_id, migrated_from, created_at) VALUES (:id, :rule_id, :number, "
                ":state, :source, :description, :policy_id, :cap, :expires_at, :author, :migrated_from, :now)"
            ),
            {
                "id": uuid.uuid4(),
                "rule_id": row["rule_id"],
                "number": number,
                "state": row["state"],
                "source": row["source"].replace(MIGRATED_ENQUEUE, "hold()"),
                "description": row["description"],
                "policy_id": row["policy_id"],
                "cap": row["daily_action_cap"],
                "expires_at": row["expires_at"],
                "author": AUTHOR,
                "migrated_from": row["migrated_from"],
                "now": now,
            },
        )
        bind.execute(
            sa.text(
                "UPDATE rules SET current_version = :number, updated_at = :now, version = version + 1 WHERE id = :id"
            ),
            {"number": number, "now": now, "id": row["rule_id"]},
        )


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
    _hold_migrated_enqueue_rules()


def downgrade() -> None:
    # The hold() versions stay: they mean what the migrated rules meant before this revision.
    op.drop_index("ix_rule_delayed_actions_rule", table_name="rule_delayed_actions")
    op.drop_index(
        "ix_rule_delayed_actions_due", table_name="rule_delayed_actions", postgresql_where=sa.text("state = 'PENDING'")
    )
    op.drop_index(op.f("ix_rule_delayed_actions_region"), table_name="rule_delayed_actions")
    op.drop_table("rule_delayed_actions")
    op.drop_column("cases", "priority_floor")
