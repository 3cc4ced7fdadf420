"""cases listed across regions: an index on (created_at, id)

An admin's or a multi-region moderator's `cases` page sorts every region's cases by (created_at, id); the
(region, created_at, id) index serves one region only, so those pages sorted the whole table (linear in it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cases_created", "cases", ["created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_created", table_name="cases")
