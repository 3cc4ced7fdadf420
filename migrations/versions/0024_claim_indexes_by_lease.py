"""claim-next off two partial indexes: unleased cases in urgency order, leased ones by expiry

``ix_cases_claimable`` held every open case of a queue in urgency order, leased or not, so a claim stepped over
every case others held before the first free one (each a heap visit to read its lease): a queue's claims slowed as
its held cases grew. It now holds the open cases without a lease; ``ix_cases_lease_expiry`` holds the leased ones
by expiry, where a claim finds the expired leases (``persistence.operations.claimable_case``).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "state IN ('OPEN', 'ASSIGNED', 'ESCALATED')"


def upgrade() -> None:
    op.drop_index("ix_cases_claimable", table_name="cases", postgresql_where=sa.text(OPEN))
    op.create_index(
        "ix_cases_claimable",
        "cases",
        ["queue_id", "sla_due_at", sa.literal_column("priority DESC"), "id"],
        unique=False,
        postgresql_where=sa.text(f"{OPEN} AND lease_expires_at IS NULL"),
    )
    op.create_index(
        "ix_cases_lease_expiry",
        "cases",
        ["queue_id", "lease_expires_at"],
        unique=False,
        postgresql_where=sa.text(f"{OPEN} AND lease_expires_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_lease_expiry", table_name="cases")
    op.drop_index("ix_cases_claimable", table_name="cases")
    op.create_index(
        "ix_cases_claimable",
        "cases",
        ["queue_id", "sla_due_at", sa.literal_column("priority DESC"), "id"],
        unique=False,
        postgresql_where=sa.text(OPEN),
    )
