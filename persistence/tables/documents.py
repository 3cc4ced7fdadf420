"""Trusted documents (named by the SHA-256 of their text, never changed once stored) and the documents a pinned
API token may send."""

from __future__ import annotations

import sqlalchemy as sa

from persistence.metadata import metadata
from persistence.tables.columns import fk, tz

trusted_documents = sa.Table(
    "trusted_documents",
    metadata,
    sa.Column("id", sa.String(71), primary_key=True),  # "sha256:" and 64 hex digits
    sa.Column("name", sa.String(200), nullable=False, index=True),
    sa.Column("body", sa.Text(), nullable=False),
    tz("registered_at"),
    sa.Column("registered_by", sa.String(200), nullable=False),
    sa.CheckConstraint("id ~ '^sha256:[0-9a-f]{64}$'", name="sha256_id"),
)

token_documents = sa.Table(
    "token_documents",
    metadata,
    fk("token_id", "api_tokens.id", index=False),
    sa.Column("document_id", sa.String(71), sa.ForeignKey("trusted_documents.id"), nullable=False, index=True),
    sa.PrimaryKeyConstraint("token_id", "document_id"),
)
