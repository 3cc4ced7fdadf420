"""unit of work

Reserved in the wave-3 chain; filled in by the change that needs it (an empty step is removed before landing).

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-06 04:55:00.000000
"""

from collections.abc import Sequence

revision: str = "0016"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
