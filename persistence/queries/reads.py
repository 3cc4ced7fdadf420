"""The read side for GraphQL: batched loads by id or by a parent key, and filtered keyset pages.

Everything returns plain (untracked) domain entities. Region visibility is a SQL predicate, never a loop.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.fast.sql import Pool, compile_cached, entity_from, pg_type
from persistence.mapping import EntityMapping
from persistence.pagination import Cursors, Page, keyset, to_page

E = TypeVar("E")
log = logging.getLogger(__name__)


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


def _page_statement(
    mapping: EntityMapping[Any],
    where: Sequence[sa.ColumnElement[bool]],
    regions: frozenset[str] | None,
    first: int,
    after: str | None,
    sort: str,
) -> sa.Select[Any]:
    table = mapping.table
    predicates = list(where)
    visible = region_predicate(table, regions)
    if visible is not None:
        predicates.append(visible)
    return keyset(sa.select(table).where(*predicates), table.c[sort], table.c.id, first=first, after=after)


@dataclasses.dataclass(frozen=True)
class Rendering:
    """A column to add to a page's rows: an SQL expression over the page's row ``p`` (its parameters written
    ``\\x00<n>\\x00``, numbered from 0) and their values (``api.graphql.compiler.render``)."""

    table: str
    expression: str
    arguments: list[Any]


_TOKEN = re.compile("\x00(\\d+)\x00")


@functools.lru_cache(maxsize=256)
def _rendered_sql(page_sql: str, expression: str, offset: int, sort: str) -> str:
    """The page's sort key, id and rendering, in the page's order (the rest of the row stays in PostgreSQL; the
    cursors are written from the key and id in Python, those asked for only: ``Cursors``)."""
    column = _TOKEN.sub(lambda m: f"${offset + 1 + int(m.group(1))}", expression)
    return (
        f"SELECT p.{sort}, p.id, {column} AS rendered__ "  # noqa: S608 (the renderer's text)
        f"FROM ({page_sql}) AS p ORDER BY p.{sort} DESC, p.id DESC"
    )


async def fetch_page(
    pool: Pool,
    mapping: EntityMapping[E],
    *,
    where: Sequence[sa.ColumnElement[bool]],
    regions: frozenset[str] | None,
    first: int,
    after: str | None,
    sort: str = "created_at",
    rendering: Rendering | None = None,
) -> Page[E]:
    """``page`` on the asyncpg pool: one round trip (a session would add a connection check, BEGIN and ROLLBACK).
    With ``rendering`` (of this page's table), each item's rendered text too (``Page.rendered``)."""
    compiled = compile_cached(_page_statement(mapping, where, regions, first, after, sort))
    args = compiled.args()
    if rendering is None or rendering.table != mapping.table.name:
        rows = await pool.fetch(compiled.sql, *args)
        return to_page([entity_from(mapping, r) for r in rows], first=first, after=after, sort_attr=sort)
    sql = _rendered_sql(compiled.sql, rendering.expression, len(args), sort)
    try:
        rows = await pool.fetch(sql, *args, *rendering.arguments)
    except (asyncpg.DataError, asyncpg.ProgramLimitExceededError) as exc:  # a value or a size it cannot write
        log.warning("a page's rendering failed (%s): the page is read ordinarily", type(exc).__name__)
        rows = await pool.fetch(compiled.sql, *args)
        return to_page([entity_from(mapping, r) for r in rows], first=first, after=after, sort_attr=sort)
    rendered: list[str | None] = [r["rendered__"] for r in rows[:first]]
    if None in rendered:  # a row the rendering gave up on: the page read again as entities, completed in Python
        rows = await pool.fetch(compiled.sql, *args)
        page = to_page([entity_from(mapping, r) for r in rows], first=first, after=after, sort_attr=sort)
        return dataclasses.replace(page, rendered=rendered)
    cursors = Cursors([(r[sort], r["id"]) for r in rows[:first]])
    return Page([], cursors, len(rows) > first, after is not None, rendered)


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
    stmt = _page_statement(mapping, where, regions, first, after, sort)
    rows = (await session.execute(stmt)).mappings().all()
    entities = [mapping.from_row(r) for r in rows]
    return to_page(entities, first=first, after=after, sort_attr=sort)


# -- the same loads on the plain asyncpg pool (the request path): text built once per shape, prepared once --------
@functools.cache
def _by_ids_sql(table: sa.Table) -> str:
    columns = ", ".join(c.name for c in table.columns)
    return f"SELECT {columns} FROM {table.name} WHERE id = ANY($1::uuid[])"  # noqa: S608 (names from metadata)


@functools.cache
def _grouped_sql(table: sa.Table, column: str, order_by: str, limit: int | None) -> str:
    columns = ", ".join(c.name for c in table.columns)
    key_type = pg_type(table.c[column])
    where = f"{column} = ANY($1::{key_type}[])"
    if limit is None:
        return f"SELECT {columns} FROM {table.name} WHERE {where} ORDER BY {order_by}, id"  # noqa: S608
    ranked = (
        f"SELECT {columns}, row_number() OVER (PARTITION BY {column} ORDER BY {order_by}, id) AS rank_in_group "  # noqa: S608
        f"FROM {table.name} WHERE {where}"
    )
    return f"SELECT {columns} FROM ({ranked}) ranked WHERE rank_in_group <= {int(limit)} ORDER BY {order_by}, id"  # noqa: S608


async def fetch_by_ids(pool: Pool, mapping: EntityMapping[E], ids: Sequence[uuid.UUID]) -> list[E | None]:
    """``load_by_ids`` on the asyncpg pool: one prepared statement whatever the number of ids."""
    rows = await pool.fetch(_by_ids_sql(mapping.table), list(set(ids)))
    found = {row["id"]: entity_from(mapping, row) for row in rows}
    return [found.get(i) for i in ids]


async def fetch_grouped(
    pool: Pool,
    mapping: EntityMapping[E],
    column: str,
    keys: Sequence[Any],
    *,
    order_by: str = "created_at",
    limit: int | None = None,
) -> list[list[E]]:
    """``load_grouped`` on the asyncpg pool."""
    rows = await pool.fetch(_grouped_sql(mapping.table, column, order_by, limit), list(set(keys)))
    groups: dict[Any, list[E]] = {k: [] for k in keys}
    for row in rows:
        groups[row[column]].append(entity_from(mapping, row))
    return [groups[k] for k in keys]
