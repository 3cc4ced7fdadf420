"""finished delayed actions by age

The retention of rules' delayed actions (``persistence.delayed_actions.prune_finished``) deletes the finished ones
(DONE, DROPPED, FAILED) executed before a cut-off, a batch at a time: a partial index on ``executed_at`` over the
finished rows lets each batch start at the oldest instead of scanning the table (pending rows stay out of it, as
they are out of this retention).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_rule_delayed_actions_finished",
        "rule_delayed_actions",
        ["executed_at"],
        postgresql_where=sa.text("state <> 'PENDING'"),
    )


def downgrade() -> None:
    op.drop_index("ix_rule_delayed_actions_finished", table_name="rule_delayed_actions")
