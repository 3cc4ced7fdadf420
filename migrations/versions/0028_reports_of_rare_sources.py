"""the reports of rare sources indexed apart

``reports(filter: {source})`` for a rare source (a console's trusted flaggers' notices, legal ones) read the
regions' reports newest first and dropped every other source's: the pool plans a statement once for any parameter
values, and such a plan weighs every source as the average one. The listing now writes its source into the
statement's text, and the reports of the rare sources (TRUSTED_FLAGGER, INTERNAL, LEGAL) have a partial index of
their own, in the page's order. The bulk of reports (USER, AUTOMATED) are not in it, so intake pays nothing for it.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RARE = "source IN ('TRUSTED_FLAGGER', 'INTERNAL', 'LEGAL')"


def upgrade() -> None:
    op.create_index(
        "ix_reports_rare_source_created",
        "reports",
        ["source", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text(_RARE),
    )


def downgrade() -> None:
    op.drop_index("ix_reports_rare_source_created", table_name="reports", postgresql_where=sa.text(_RARE))
