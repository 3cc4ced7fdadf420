"""when a backtest was applied retroactively

``retroactRule`` applies every action of a backtested version now (cases, routes, labels), not only ``decide``; a
run without a ``decide`` creates no bulk job, so ``retro_job_id`` can no longer say that a backtest was applied.
``retroacted_at`` does (set once); backtests applied before it get their last update time.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rule_backtests", sa.Column("retroacted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE rule_backtests SET retroacted_at = updated_at WHERE retro_job_id IS NOT NULL")


def downgrade() -> None:
    op.drop_column("rule_backtests", "retroacted_at")
