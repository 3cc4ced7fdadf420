"""enforcement actions indexed by their target's id first

An account's status reads its enforcement actions by the account's id alone (the DataLoader behind
``Account.status``), and so does a bulk chunk's prefetch for its cases' subjects. The index led with the target's
kind, which PostgreSQL 15 cannot skip: both read every action. It now leads with the id (the kind after it, for the
lookups that name both).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_enforcement_actions_target", table_name="enforcement_actions")
    op.create_index("ix_enforcement_actions_target", "enforcement_actions", ["target_id", "target_kind"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_enforcement_actions_target", table_name="enforcement_actions")
    op.create_index("ix_enforcement_actions_target", "enforcement_actions", ["target_kind", "target_id"], unique=False)
