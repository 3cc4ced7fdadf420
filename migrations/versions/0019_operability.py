"""operability

Bulk jobs, for operators (issue 23): ``bulk_jobs.max_ladder_step`` (steps of the strike ladder above it are
skipped, ``bulkDecideCases(maxLadderStep)``), ``bulk_jobs.traceparent`` (the submitting request's W3C trace
context, which the spans of the job's chunks link to) and ``bulk_job_items.skipped_ladder_step`` (the ladder step
an item's decision reached and did not apply, audited with the item).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "bulk_jobs",
        sa.Column(
            "max_ladder_step",
            sa.Enum(
                "WARN",
                "RESTRICT",
                "SUSPEND",
                "BAN",
                name="max_ladder_step_ladderlevel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
    )
    op.add_column("bulk_jobs", sa.Column("traceparent", sa.String(length=64), nullable=True))
    op.add_column("bulk_job_items", sa.Column("skipped_ladder_step", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("bulk_job_items", "skipped_ladder_step")
    op.drop_column("bulk_jobs", "traceparent")
    op.drop_column("bulk_jobs", "max_ladder_step")
