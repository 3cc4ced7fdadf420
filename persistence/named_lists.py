"""Named lists in PostgreSQL (``domain.services.named_lists.ListStore``) on the SQL unit of work: an edit writes
only what changed (entries carry the version that added and the one that removed them), the list row is guarded
by its version, and one audit record per write names the version and its counts (and a digest of what changed:
a list edit may carry 50,000 entries)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError
from domain.region import Region
from domain.rules import ListKind
from domain.services.named_lists import ListEdit, NamedList
from persistence.pagination import Page, encode_cursor, keyset
from persistence.tables.rules import named_list_entries, named_list_versions, named_lists
from persistence.uow import RecordKind, SqlUnitOfWork, Subject

NAMED_LIST = RecordKind("NamedList")


def list_of(row: Mapping[str, Any] | sa.RowMapping) -> NamedList:
    return NamedList(
        id=row["id"],
        region=Region(row["region"]),
        name=row["name"],
        kind=ListKind(row["kind"]),
        current_version=row["current_version"],
        entry_count=row["entry_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def _any(column: sa.ColumnElement[str], values: Sequence[str]) -> sa.ColumnElement[bool]:
    """``column = ANY($1)``: one array parameter, however many values (an IN list is capped by the protocol)."""
    return column == sa.any_(sa.bindparam(None, list(values), type_=ARRAY(sa.String)))


def _digest(values: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(values)).encode()).hexdigest()


class SqlListStore:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def _session(self) -> AsyncSession:
        return self._uow.session

    async def get(self, list_id: uuid.UUID) -> NamedList | None:
        row = (
            (await self._session.execute(sa.select(named_lists).where(named_lists.c.id == list_id))).mappings().first()
        )
        if row is None or (self._uow.regions is not None and row["region"] not in self._uow.regions):
            return None
        return list_of(row)

    async def name_taken(self, region: Region, name: str) -> bool:
        stmt = sa.select(sa.func.count()).where(named_lists.c.region == region.value, named_lists.c.name == name)
        return bool((await self._session.execute(stmt)).scalar_one())

    async def current_entries(self, named: NamedList, values: Sequence[str]) -> set[str]:
        if not values:
            return set()
        c = named_list_entries.c
        stmt = sa.select(c.value).where(c.list_id == named.id, c.removed_in.is_(None), _any(c.value, values))
        return set((await self._session.execute(stmt)).scalars())

    async def write(self, named: NamedList, edit: ListEdit, *, loaded_version: int | None, author_id: str) -> None:
        row = {
            "region": named.region.value,
            "name": named.name,
            "kind": named.kind.value,
            "current_version": named.current_version,
            "entry_count": named.entry_count,
            "created_at": named.created_at,
            "updated_at": named.updated_at,
            "version": named.version,
        }
        if loaded_version is None:
            await self._session.execute(sa.insert(named_lists).values(id=named.id, **row))
        else:
            guard = (named_lists.c.id == named.id, named_lists.c.version == loaded_version)
            result = await self._session.execute(sa.update(named_lists).where(*guard).values(**row))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise DomainError.conflict("the list was changed by someone else; try again", "listId")
        number = named.current_version
        if edit.removed:
            c = named_list_entries.c
            await self._session.execute(
                sa.update(named_list_entries)
                .where(c.list_id == named.id, c.removed_in.is_(None), _any(c.value, edit.removed))
                .values(removed_in=number)
            )
        if edit.added:
            await self._session.execute(
                sa.insert(named_list_entries),
                [{"list_id": named.id, "value": v, "added_in": number, "removed_in": None} for v in edit.added],
            )
        await self._session.execute(
            sa.insert(named_list_versions).values(
                id=uuid.uuid4(),
                list_id=named.id,
                number=number,
                added=len(edit.added),
                removed=len(edit.removed),
                entry_count=named.entry_count,
                author_id=author_id,
                created_at=named.updated_at,
            )
        )
        after = {
            "name": named.name,
            "kind": named.kind.value,
            "list_version": number,
            "added": len(edit.added),
            "removed": len(edit.removed),
            "entry_count": named.entry_count,
            "added_sha256": _digest(edit.added),
            "removed_sha256": _digest(edit.removed),
        }
        action = "createNamedList" if loaded_version is None else "editNamedList"
        self._uow.record(NAMED_LIST, Subject(named.id, named.region.value), action=action, after=after)


async def list_page(
    session: AsyncSession, *, regions: frozenset[str] | None, first: int, after: str | None
) -> Page[NamedList]:
    stmt = sa.select(named_lists)
    if regions is not None:
        stmt = stmt.where(named_lists.c.region.in_(sorted(regions)))
    stmt = keyset(stmt, named_lists.c.created_at, named_lists.c.id, first=first, after=after)
    rows = list((await session.execute(stmt)).mappings())
    items = [list_of(r) for r in rows[:first]]
    return Page(items, [encode_cursor(i.created_at, i.id) for i in items], len(rows) > first, after is not None)


async def entries_page(session: AsyncSession, named: NamedList, *, first: int, after: str | None) -> Page[str]:
    """The list's current entries in value order."""
    c = named_list_entries.c
    stmt = sa.select(c.value).where(c.list_id == named.id, c.removed_in.is_(None))
    if after is not None:
        stmt = stmt.where(c.value > after)
    values = list((await session.execute(stmt.order_by(c.value).limit(first + 1))).scalars())
    items = values[:first]
    return Page(items, items, len(values) > first, after is not None)


async def list_by_id(session: AsyncSession, list_id: uuid.UUID) -> NamedList | None:
    """A list, any region (the caller checks it may read it)."""
    row = (await session.execute(sa.select(named_lists).where(named_lists.c.id == list_id))).mappings().first()
    return None if row is None else list_of(row)
