"""decisions indexed by decider, strikes by policy

Two console listings filtered on a column no index led with: ``decisions(filter: {deciderId})`` (a QA reviewer's or
an operations lead's look at one moderator's work; one rule's automated decisions) and ``strikes(filter:
{policyId})``. Each page walked its regions' index newest first and dropped the rows of other deciders or policies:
fine for a busy moderator, every decision of the regions for one who decided little or long ago. Each index leads
with the filtered column and holds the page's order after it, so a page is one index range read backwards.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 01:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_decisions_decider_decided", "decisions", ["decider_id", "decided_at", "id"], unique=False)
    op.create_index("ix_strikes_policy_created", "strikes", ["policy_id", "created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_strikes_policy_created", table_name="strikes")
    op.drop_index("ix_decisions_decider_decided", table_name="decisions")
