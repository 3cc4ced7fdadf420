"""The read side for GraphQL: batched loads by id or by a parent key, and filtered keyset pages.

Everything returns plain (untracked) domain entities. Region visibility is a SQL predicate, never a loop.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.mapping import EntityMapping
from persistence.pagination import Page, keyset, to_page

E = TypeVar("E")


def region_predicate(table: sa.Table, regions: frozenset[str] | None) -> sa.ColumnElement[bool] | None:
    """None: no filter (every region). An empty set matches nothing."""
    if regions is None:
        return None
    return table.c.region.in_(sorted(regions)) if regions else sa.false()


async def load_by_ids(session: AsyncSession, mapping: EntityMapping[E], ids: Sequence[uuid.UUID]) -> list[E | None]:
    table = mapping.table
    rows = (await session.execute(sa.select(table).where(table.c.id.in_(list(set(ids)))))).mappings().all()
    found = {row["id"]: mapping.from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def load_grouped(
    session: AsyncSession,
    mapping: EntityMapping[E],
    column: str,
    keys: Sequence[Any],
    *,
    order_by: str = "created_at",
    limit: int | None = None,
) -> list[list[E]]:
    """For each key, the entities whose `column` equals it (ordered by `order_by`, then id); with `limit`, at
    most that many per key, cut in SQL by a window function (still one statement for all keys)."""
    table = mapping.table
    ordering = (table.c[order_by], table.c.id)
    where = table.c[column].in_(list(set(keys)))
    stmt: sa.Select[Any]
    if limit is None:
        stmt = sa.select(table).where(where).order_by(*ordering)
    else:
        rank = sa.func.row_number().over(partition_by=table.c[column], order_by=ordering).label("rank_in_group")
        ranked = sa.select(table, rank).where(where).subquery()
        stmt = (
            sa.select(*(ranked.c[c.name] for c in table.c))
            .where(ranked.c.rank_in_group <= limit)
            .order_by(ranked.c[order_by], ranked.c.id)
        )
    groups: dict[Any, list[E]] = {k: [] for k in keys}
    for row in (await session.execute(stmt)).mappings().all():
        groups[row[column]].append(mapping.from_row(row))
    return [groups[k] for k in keys]


async def page(
    session: AsyncSession,
    mapping: EntityMapping[E],
    *,
    where: Sequence[sa.ColumnElement[bool]],
    regions: frozenset[str] | None,
    first: int,
    after: str | None,
    sort: str = "created_at",
) -> Page[E]:
    table = mapping.table
    predicates = list(where)
    visible = region_predicate(table, regions)
    if visible is not None:
        predicates.append(visible)
    stmt = keyset(sa.select(table).where(*predicates), table.c[sort], table.c.id, first=first, after=after)
    rows = (await session.execute(stmt)).mappings().all()
    entities = [mapping.from_row(r) for r in rows]
    return to_page(entities, first=first, after=after, sort_attr=sort)
