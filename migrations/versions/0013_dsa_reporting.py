"""dsa reporting

A bulk decision's DSA keywords (``bulk_jobs.dsa_keywords``): each decision's statement of reasons states the
keywords chosen for it, no longer the policy version's whole list. And what the transparency report counts that
Vigil does not see for itself: orders of Member State authorities (``authority_orders``, art. 9 and 10),
out-of-court disputes (``out_of_court_disputes``, art. 21) and the platform's monthly active recipients per
Member State (``active_recipients``, art. 24(2)).

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
    op.create_table(
        "active_recipients",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "US", "EU", "APAC", "ROW", name="region_region", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("month", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "member_state",
            sa.Enum(
                "AT",
                "BE",
                "BG",
                "CY",
                "CZ",
                "DE",
                "DK",
                "EE",
                "ES",
                "FI",
                "FR",
                "GR",
                "HR",
                "HU",
                "IE",
                "IT",
                "LT",
                "LU",
                "LV",
                "MT",
                "NL",
                "PL",
                "PT",
                "RO",
                "SE",
                "SI",
                "SK",
                "IS",
                "LI",
                "NO",
                name="member_state_country",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_active_recipients")),
        sa.UniqueConstraint(
            "region", "month", "member_state", name=op.f("uq_active_recipients_region_month_member_state")
        ),
    )
    op.create_table(
        "authority_orders",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "US", "EU", "APAC", "ROW", name="region_region", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "ACT_AGAINST_ILLEGAL_CONTENT",
                "PROVIDE_INFORMATION",
                name="kind_orderkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "member_state",
            sa.Enum(
                "AT",
                "BE",
                "BG",
                "CY",
                "CZ",
                "DE",
                "DK",
                "EE",
                "ES",
                "FI",
                "FR",
                "GR",
                "HR",
                "HU",
                "IE",
                "IT",
                "LT",
                "LU",
                "LV",
                "MT",
                "NL",
                "PL",
                "PT",
                "RO",
                "SE",
                "SI",
                "SK",
                "IS",
                "LI",
                "NO",
                name="member_state_country",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("informed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_authority_orders_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority_orders")),
    )
    op.create_index(
        "ix_authority_orders_region_received", "authority_orders", ["region", "received_at", "id"], unique=False
    )
    op.create_table(
        "out_of_court_disputes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "US", "EU", "APAC", "ROW", name="region_region", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("decision_id", sa.UUID(), nullable=False),
        sa.Column("body", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "PENDING",
                "FOR_RECIPIENT",
                "FOR_PROVIDER",
                "SETTLED",
                "DISCONTINUED",
                name="outcome_disputeoutcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("implemented", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_out_of_court_disputes_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_out_of_court_disputes")),
    )
    op.create_index(
        op.f("ix_out_of_court_disputes_decision_id"), "out_of_court_disputes", ["decision_id"], unique=False
    )
    op.create_index(
        "ix_out_of_court_disputes_region_submitted",
        "out_of_court_disputes",
        ["region", "submitted_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_out_of_court_disputes_region_submitted", table_name="out_of_court_disputes")
    op.drop_index(op.f("ix_out_of_court_disputes_decision_id"), table_name="out_of_court_disputes")
    op.drop_table("out_of_court_disputes")
    op.drop_index("ix_authority_orders_region_received", table_name="authority_orders")
    op.drop_table("authority_orders")
    op.drop_table("active_recipients")
    op.drop_column("bulk_jobs", "dsa_keywords")
