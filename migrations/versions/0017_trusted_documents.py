"""trusted documents

GraphQL operations registered ahead of time, named by the SHA-256 of their text (the check constraint holds the
form); a pinned API token's documents (a token with rows here may send only those).

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-06 05:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trusted_documents",
        sa.Column("id", sa.String(length=71), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint("id ~ '^sha256:[0-9a-f]{64}$'", name=op.f("ck_trusted_documents_sha256_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_documents")),
    )
    op.create_index(op.f("ix_trusted_documents_name"), "trusted_documents", ["name"], unique=False)
    op.create_table(
        "token_documents",
        sa.Column("token_id", sa.UUID(), nullable=False),
        sa.Column("document_id", sa.String(length=71), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], name=op.f("fk_token_documents_token_id_api_tokens")),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["trusted_documents.id"],
            name=op.f("fk_token_documents_document_id_trusted_documents"),
        ),
        sa.PrimaryKeyConstraint("token_id", "document_id", name=op.f("pk_token_documents")),
    )
    op.create_index(op.f("ix_token_documents_document_id"), "token_documents", ["document_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_token_documents_document_id"), table_name="token_documents")
    op.drop_table("token_documents")
    op.drop_index(op.f("ix_trusted_documents_name"), table_name="trusted_documents")
    op.drop_table("trusted_documents")
