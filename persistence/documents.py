"""Trusted documents as stored: registration (insert once, audited), look-up by id on the request path, listing,
and the documents a pinned token may send."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.document import TrustedDocument
from persistence.pagination import Page, keyset, to_page
from persistence.tables.documents import token_documents, trusted_documents

_t = trusted_documents


async def store_new(session: AsyncSession, documents: Sequence[TrustedDocument], *, at: datetime, by: str) -> set[str]:
    """Insert the documents not stored yet (a stored id keeps its first text, name and registrant: a document
    never changes); the ids inserted now."""
    if not documents:
        return set()
    rows = [
        {"id": d.id, "name": d.name, "body": d.text, "registered_at": at, "registered_by": by}
        for d in {d.id: d for d in documents}.values()
    ]
    result = await session.execute(insert(_t).values(rows).on_conflict_do_nothing().returning(_t.c.id))
    return {row[0] for row in result}


async def stored(session: AsyncSession, ids: Sequence[str]) -> dict[str, TrustedDocument]:
    result = await session.execute(sa.select(_t).where(_t.c.id.in_(list(ids))))
    return {row.id: _document(row._mapping) for row in result}


async def by_names(session: AsyncSession, names: Sequence[str]) -> dict[str, list[str]]:
    """The ids of the documents of each name (a name may have several versions: every text is a document)."""
    result = await session.execute(sa.select(_t.c.name, _t.c.id).where(_t.c.name.in_(list(names))))
    found: dict[str, list[str]] = {}
    for name, doc_id in result:
        found.setdefault(name, []).append(doc_id)
    return found


async def pin(session: AsyncSession, token_id: uuid.UUID, document_ids: Sequence[str]) -> None:
    if document_ids:
        rows = [{"token_id": token_id, "document_id": d} for d in sorted(set(document_ids))]
        await session.execute(insert(token_documents).values(rows).on_conflict_do_nothing())


async def listing(
    session: AsyncSession, *, first: int, after: str | None, name: str | None = None
) -> Page[TrustedDocument]:
    """Documents, newest first (keyset on ``registered_at, id``), optionally those of one name."""
    query = sa.select(_t)
    if name is not None:
        query = query.where(_t.c.name == name)
    query = keyset(query, _t.c.registered_at, _t.c.id, first=first, after=after)
    rows = [_document(row._mapping) for row in await session.execute(query)]
    return to_page(rows, first=first, after=after, sort_attr="registered_at")


# -- the request path: plain asyncpg, one indexed look-up, cached by the caller -------------------------------

_LOOKUP = "SELECT id, name, body, registered_at, registered_by FROM trusted_documents WHERE id = $1"
_PINS = "SELECT document_id FROM token_documents WHERE token_id = $1"


async def fetch(conn: asyncpg.Connection, document_id: str) -> TrustedDocument | None:
    row = await conn.fetchrow(_LOOKUP, document_id)
    return None if row is None else _document(row)


async def fetch_pins(conn: asyncpg.Connection, token_id: uuid.UUID) -> frozenset[str]:
    """The documents a token may send; empty when the token is not pinned (it may send any)."""
    return frozenset(row[0] for row in await conn.fetch(_PINS, token_id))


def _document(row: Any) -> TrustedDocument:
    get = row.__getitem__
    return TrustedDocument(
        id=get("id"),
        name=get("name"),
        text=get("body"),
        registered_at=get("registered_at"),
        registered_by=get("registered_by"),
    )
