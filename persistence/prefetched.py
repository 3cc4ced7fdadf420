"""A unit of work for hot commands whose reads are known up front: one transaction on a plain asyncpg
connection, the reads in one prefetch statement, the writes in one statement, audit events by construction.

Subclasses say what to lock (``begin_sql``), what to read (``prefetch``) and which repositories the domain
service sees; the base class keeps the transaction, the snapshots of loaded entities and the write. As in the SQL
unit of work (``persistence.uow``), a changed entity is written ``WHERE version = <loaded>`` and gets one audit
event; a new one is inserted and gets one; the events are built by the same ``audit_record``. A version that no
longer matches raises ``LostRace`` (the caller runs the command again on fresh rows).

Outbox events (``domain.events.events_of`` of the same changes) are one more CTE of the write: no extra round trip.

Round trips: ``BEGIN`` (with any advisory locks) · prefetch · write · ``COMMIT`` — four, whatever the batch size.
"""

from __future__ import annotations

import functools
import uuid
from types import TracebackType
from typing import Any, ClassVar, Self

import asyncpg

from domain.clock import Clock, SystemClock
from domain.events import DomainEvent, events_of
from persistence.audit import AuditRecord
from persistence.fastsql import audit_arrays, column_arrays, insert_cte, update_cte
from persistence.mapping import EntityMapping
from persistence.outbox import event_arrays
from persistence.tables.audit import audit_events
from persistence.tables.outbox import outbox_events
from persistence.uow import AuditContext, _table_order, audit_record, changed_columns


class LostRace(Exception):
    """A row changed between the prefetch and the write (someone else committed first): run it again."""


class PrefetchedUnitOfWork:
    statements: ClassVar[int] = 0
    """Round trips to PostgreSQL made by this class's units of work (tests pin the count per request)."""

    def __init__(
        self, pool: asyncpg.Pool, audit: AuditContext, *, regions: frozenset[str] | None, clock: Clock | None
    ) -> None:
        self._pool = pool
        self.audit = audit
        self.regions = regions
        self.clock: Clock = clock or SystemClock()
        self._conn: Any = None
        self._loaded: dict[tuple[str, uuid.UUID], tuple[EntityMapping[Any], Any, dict[str, Any]]] = {}
        self._new: list[tuple[EntityMapping[Any], Any]] = []

    # -- what subclasses say -------------------------------------------------------------------------------
    def begin_sql(self) -> str:
        return "BEGIN;"

    async def prefetch(self, conn: Any) -> None:
        raise NotImplementedError

    # -- transaction -------------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        self._conn = await self._pool.acquire()
        try:
            await self._round_trip(self._conn.execute(self.begin_sql()))
            await self.prefetch(self._conn)
        except BaseException:
            await self._release(commit=False)
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                await self._write()
        except BaseException:
            await self._release(commit=False)
            raise
        await self._release(commit=exc_type is None)

    async def _release(self, *, commit: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not conn.is_closed():
                await self._round_trip(conn.execute("COMMIT" if commit else "ROLLBACK"))
        finally:
            await self._pool.release(conn)

    async def _round_trip(self, awaitable: Any) -> Any:
        type(self).statements += 1
        return await awaitable

    async def fetch(self, conn: Any, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self._round_trip(conn.fetch(sql, *args))  # type: ignore[no-any-return]

    # -- tracking ----------------------------------------------------------------------------------------
    def visible(self, entity: Any) -> bool:
        """Records outside the unit of work's regions do not exist for it (global ones have no region)."""
        region = getattr(entity, "region", None)
        return self.regions is None or region is None or region.value in self.regions

    def track(self, mapping: EntityMapping[Any], entity: Any) -> Any:
        """The tracked instance of a loaded entity (the first one loaded, if the same row came twice)."""
        key = (mapping.table.name, entity.id)
        hit = self._loaded.get(key)
        if hit is not None:
            return hit[1]
        self._loaded[key] = (mapping, entity, mapping.snapshot(entity))
        return entity

    def add(self, mapping: EntityMapping[Any], entity: Any) -> None:
        self._new.append((mapping, entity))

    # -- write -------------------------------------------------------------------------------------------
    async def _write(self) -> None:
        now = self.clock.now()
        records: list[AuditRecord] = []
        events: list[DomainEvent] = []
        inserts: dict[str, tuple[EntityMapping[Any], list[Any]]] = {}
        for mapping, entity in self._new:
            inserts.setdefault(mapping.table.name, (mapping, []))[1].append(entity)
            records.append(audit_record(self.audit, now, mapping, entity, None, mapping.snapshot(entity)))
            events += events_of(entity, None, now)
        updates: dict[str, tuple[EntityMapping[Any], list[Any], list[int]]] = {}
        for mapping, entity, snapshot in self._loaded.values():
            diff = changed_columns(mapping, entity, snapshot)
            if not diff:
                continue
            loaded_version = snapshot["version"]
            entity.version = loaded_version + 1
            group = updates.setdefault(mapping.table.name, (mapping, [], []))
            group[1].append(entity)
            group[2].append(loaded_version)
            before = {k: snapshot[k] for k in diff}
            records.append(audit_record(self.audit, now, mapping, entity, before, diff))
            events += events_of(entity, before, now)
        if not records:
            return
        order = _table_order()
        insert_groups = sorted(inserts.values(), key=lambda g: order[g[0].table.name])
        update_groups = sorted(updates.values(), key=lambda g: order[g[0].table.name])
        params: list[Any] = []
        for mapping, entities in insert_groups:
            params += column_arrays(mapping, entities)
        for mapping, entities, versions in update_groups:
            params += [*column_arrays(mapping, entities), versions]
        params += audit_arrays(records)
        params += event_arrays(events)
        sql = _write_sql(tuple(g[0].table.name for g in insert_groups), tuple(g[0].table.name for g in update_groups))
        updated = await self._round_trip(self._conn.fetchval(sql, *params))
        if updated != sum(len(g[1]) for g in update_groups):
            for _, entities, versions in update_groups:
                for entity, version in zip(entities, versions, strict=True):
                    entity.version = version
            raise LostRace("a row changed between the prefetch and the write")


@functools.cache
def _write_sql(inserted: tuple[str, ...], updated: tuple[str, ...]) -> str:
    """Inserts, version-guarded updates, audit and outbox events as data-modifying CTEs (foreign keys are checked at the
    end of the statement); it returns the number of rows the updates matched. One text per shape, prepared once
    per connection."""
    from persistence.metadata import metadata

    tables = metadata.tables
    ctes: list[str] = []
    param = 1
    for i, name in enumerate(inserted):
        sql, param = insert_cte(tables[name], param)
        ctes.append(f"i{i} AS ({sql})")
    for i, name in enumerate(updated):
        sql, param = update_cte(tables[name], param)
        ctes.append(f"u{i} AS ({sql})")
    sql, param = insert_cte(audit_events, param)
    ctes.append(f"events AS ({sql})")
    sql, param = insert_cte(outbox_events, param)
    ctes.append(f"outbox AS ({sql})")
    count = " + ".join(f"(SELECT count(*) FROM u{i})" for i in range(len(updated))) or "0"  # noqa: S608
    return f"WITH {', '.join(ctes)} SELECT {count}"
