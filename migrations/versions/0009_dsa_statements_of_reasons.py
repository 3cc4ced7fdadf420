"""DSA statements of reasons: a snapshot per restricting EU decision with its submission state; policy keywords

``statements_of_reasons`` holds the statement taken when a decision is recorded (the Transparency Database's
fields as JSON) and where its submission stands. ``policy_versions.dsa_keywords`` holds the DSA keywords a
policy's statements carry, ``policy_versions.guidelines_url`` where its published rule can be read. Two
categories the database does not know are corrected to the official ones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Categories seeded before the official vocabulary was checked, and the official category each becomes.
RENAMED = {
    "STATEMENT_CATEGORY_UNSAFE_PRODUCTS": "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
}


def upgrade() -> None:
    op.add_column(
        "policy_versions",
        sa.Column("dsa_keywords", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"),
    )
    op.alter_column("policy_versions", "dsa_keywords", server_default=None)
    op.add_column("policy_versions", sa.Column("guidelines_url", sa.Text(), nullable=True))
    for old, new in RENAMED.items():
        op.execute(
            sa.text("UPDATE policy_versions SET dsa_category = :new WHERE dsa_category = :old").bindparams(
                old=old, new=new
            )
        )
    op.create_table(
        "statements_of_reasons",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "US", "EU", "APAC", "ROW", name="region_region", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("decision_id", sa.UUID(), nullable=False),
        sa.Column("puid", sa.String(length=500), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "submission",
            sa.Enum(
                "PENDING",
                "IN_FLIGHT",
                "SUBMITTED",
                "REJECTED",
                name="submission_submissionstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("batch_id", sa.UUID(), nullable=True),
        sa.Column("database_id", sa.String(length=64), nullable=True),
        sa.Column("rejection", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_statements_of_reasons_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements_of_reasons")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_statements_of_reasons_decision_id")),
        sa.UniqueConstraint("puid", name=op.f("uq_statements_of_reasons_puid")),
    )
    op.create_index(
        "ix_statements_of_reasons_submission", "statements_of_reasons", ["submission", "created_at"], unique=False
    )
    op.create_index(
        "ix_statements_of_reasons_region_created", "statements_of_reasons", ["region", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("statements_of_reasons")
    op.drop_column("policy_versions", "guidelines_url")
    op.drop_column("policy_versions", "dsa_keywords")
