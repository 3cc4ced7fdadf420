"""dsa reporting

A bulk decision's DSA keywords (``bulk_jobs.dsa_keywords``): each decision's statement of reasons states the
keywords chosen for it, no longer the policy version's whole list.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("bulk_jobs", sa.Column("dsa_keywords", sa.Text(), nullable=False, server_default=""))
    op.alter_column("bulk_jobs", "dsa_keywords", server_default=None)


def downgrade() -> None:
    op.drop_column("bulk_jobs", "dsa_keywords")
