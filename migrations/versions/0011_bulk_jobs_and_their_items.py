"""bulk jobs and their items

`bulkDecideCases` stores a job (the decision, who submitted it and where it may act, progress, the lease of the
process running it) and one item per case (its state, decision or typed error). The partial index finds the
RUNNING jobs whose lease expired (resumed after a restart); the other, a job's PENDING items in order.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 18:08:44.332611
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulk_jobs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "RUNNING",
                "COMPLETED",
                "CANCELLED",
                name="state_bulkjobstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column(
            "actor_kind",
            sa.Enum(
                "STAFF",
                "TOKEN",
                "AUTOMATION",
                "SYSTEM",
                name="actor_kind_actorkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("principal_kind", sa.String(length=16), nullable=False),
        sa.Column("seniority", sa.Integer(), nullable=False),
        sa.Column("decide_regions", sa.Text(), nullable=True),
        sa.Column("sanction_regions", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column(
            "verdict",
            sa.Enum(
                "VIOLATING",
                "NOT_VIOLATING",
                name="verdict_verdict",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("policy_id", sa.UUID(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["policies.id"], name=op.f("fk_bulk_jobs_policy_id_policies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_jobs")),
    )
    op.create_index(
        "ix_bulk_jobs_running",
        "bulk_jobs",
        ["lease_expires_at"],
        unique=False,
        postgresql_where=sa.text("state = 'RUNNING'"),
    )
    op.create_table(
        "bulk_job_items",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "PENDING",
                "SUCCEEDED",
                "FAILED",
                "CANCELLED",
                name="state_bulkitemstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decision_id", sa.UUID(), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_field", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["bulk_jobs.id"], name=op.f("fk_bulk_job_items_job_id_bulk_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_job_items")),
        sa.UniqueConstraint("job_id", "position", name=op.f("uq_bulk_job_items_job_id_position")),
    )
    op.create_index(
        "ix_bulk_job_items_pending",
        "bulk_job_items",
        ["job_id", "position"],
        unique=False,
        postgresql_where=sa.text("state = 'PENDING'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_bulk_job_items_pending", table_name="bulk_job_items", postgresql_where=sa.text("state = 'PENDING'")
    )
    op.drop_table("bulk_job_items")
    op.drop_index("ix_bulk_jobs_running", table_name="bulk_jobs", postgresql_where=sa.text("state = 'RUNNING'"))
    op.drop_table("bulk_jobs")
