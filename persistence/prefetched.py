"""A unit of work for hot commands whose reads are known up front: one transaction on a plain asyncpg
connection, the reads in one prefetch statement, the writes in one statement, audit events by construction.

Subclasses say what to lock (``begin_sql``), what to read (``prefetch``) and which repositories the domain
service sees; the base class keeps the transaction, the snapshots of loaded entities and the write. As in the SQL
unit of work (``persistence.uow``), a changed entity is written ``WHERE version = <loaded>`` and gets one audit
event; a new one is inserted and gets one; the events are built by the same ``audit_record``. A version that no
longer matches raises ``LostRace`` (the caller runs the command again on fresh rows).

Outbox events (``domain.events.events_of`` of the same changes) are one more CTE of the write: no extra round trip.

Round trips: ``BEGIN`` (with any advisory locks) · prefetch · write · ``COMMIT`` — four, whatever the batch size.

**Optimistic mode** (``optimistic=True``; report intake's first attempt): no ``BEGIN``, no locks: the prefetch
and the write each run as a statement of their own, so a request costs two round trips. That is safe because the
write is one statement (atomic on its own) and refuses to apply anything when it loses a race: a version-guarded
update that matches no row makes the whole statement fail (``LOST_RACE_GUARD``), and a case or report another
request inserted first is caught by its unique index. Either way nothing was written and ``LostRace`` (or the
unique violation) sends the caller to its next attempt, which runs locked.
"""

from __future__ import annotations

import functools
import uuid
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

import asyncpg

from domain.clock import Clock, SystemClock
from domain.policy import Policy, PolicyVersion
from persistence.changeset import AuditContext, ChangeSet
from persistence.fastsql import audit_arrays, column_arrays, insert_cte, update_cte
from persistence.mapping import EntityMapping
from persistence.outbox import event_arrays
from persistence.retry import LostRace as LostRace  # raised here; callers import it from either module
from persistence.tables.audit import audit_events
from persistence.tables.outbox import outbox_events

E = TypeVar("E")


class PrefetchedUnitOfWork:
    statements: ClassVar[int] = 0
    """Round trips to PostgreSQL made by this class's units of work (tests pin the count per request)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        audit: AuditContext,
        *,
        regions: frozenset[str] | None,
        clock: Clock | None,
        optimistic: bool = False,
    ) -> None:
        self._pool = pool
        self.optimistic = optimistic
        self.audit = audit
        self.regions = regions
        self.clock: Clock = clock or SystemClock()
        self._conn: Any = None
        self.change_set = ChangeSet()

    # -- what subclasses say -------------------------------------------------------------------------------
    def begin_sql(self) -> str:
        return "BEGIN;"

    async def prefetch(self, conn: Any) -> None:
        raise NotImplementedError

    def unlocked_guard(self) -> list[int]:
        """Advisory lock keys an unlocked (optimistic) write must find free: its statement takes them for its own
        short transaction, and applies nothing if someone holds one (a locked writer may have read the rows)."""
        return []

    # -- transaction -------------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        self._conn = await self._pool.acquire()
        try:
            if not self.optimistic:
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
            if not self.optimistic and not conn.is_closed():  # optimistic: each statement committed itself
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
        return self.change_set.loaded(mapping, entity)

    def add(self, mapping: EntityMapping[Any], entity: Any) -> None:
        self.change_set.added(mapping, entity)

    # -- write -------------------------------------------------------------------------------------------
    async def _write(self) -> None:
        """The change set in one statement: its inserts and guarded updates grouped per table (a table's rows
        written in the columns any of them changed), its audit and outbox events."""
        inserts: dict[str, tuple[EntityMapping[Any], list[Any]]] = {}
        for item in self.change_set.new():
            inserts.setdefault(item.mapping.table.name, (item.mapping, []))[1].append(item.entity)
        updates: dict[str, tuple[EntityMapping[Any], list[Any], list[int], set[str]]] = {}
        for update in self.change_set.updates():
            mapping = update.item.mapping
            group = updates.setdefault(mapping.table.name, (mapping, [], [], {"version"}))
            group[1].append(update.item.entity)
            group[2].append(update.guard)
            group[3].update(update.columns)
            update.item.entity.version = update.version
        records, events = self.change_set.settle(self.audit, self.clock.now())
        if not records:
            return
        insert_groups = list(inserts.values())  # already in foreign-key order
        update_groups = list(updates.values())
        params: list[Any] = []
        for mapping, entities in insert_groups:
            params += column_arrays(mapping, entities)
        written = [(g[0].table.name, frozenset(g[3])) for g in update_groups]
        for (mapping, entities, versions, _), (_, columns) in zip(update_groups, written, strict=True):
            params += [*column_arrays(mapping, entities, columns), versions]
        params += audit_arrays(records)
        params += event_arrays(events)
        params.append(sum(len(g[1]) for g in update_groups))
        guard = self.unlocked_guard() if self.optimistic else []
        if guard:
            params.append(guard)
        sql = _write_sql(tuple(g[0].table.name for g in insert_groups), tuple(written), bool(guard))
        try:
            await self._round_trip(self._conn.execute(sql, *params))
        except asyncpg.InvalidTextRepresentationError as exc:
            if LOST_RACE_GUARD not in str(exc):
                raise
            raise LostRace("a row changed between the prefetch and the write") from None


LOST_RACE_GUARD = "lost race"
"""What the write statement fails with (casting it to an integer) when its guarded updates matched fewer rows
than it was given: the statement, and with it every insert beside the updates, then applies nothing."""


@functools.cache
def _write_sql(
    inserted: tuple[str, ...], updated: tuple[tuple[str, frozenset[str]], ...], lock_guard: bool = False
) -> str:
    """Inserts, version-guarded updates (of the columns that changed), audit and outbox events as data-modifying
    CTEs (foreign keys are checked at the end of the statement). The next parameter is the number of rows the
    updates must match; if they match fewer, the statement fails (``LOST_RACE_GUARD``) and writes nothing. With
    ``lock_guard`` the last parameter holds advisory lock keys that must be free (``unlocked_guard``), else the
    statement fails the same way. One text per shape (a hot command changes the same columns each time),
    prepared once per connection."""
    from persistence.metadata import metadata

    tables = metadata.tables
    ctes: list[str] = []
    param = 1
    for i, name in enumerate(inserted):
        sql, param = insert_cte(tables[name], param)
        ctes.append(f"i{i} AS ({sql})")
    for i, (name, columns) in enumerate(updated):
        sql, param = update_cte(tables[name], param, columns)
        ctes.append(f"u{i} AS ({sql})")
    sql, param = insert_cte(audit_events, param)
    ctes.append(f"events AS ({sql})")
    sql, param = insert_cte(outbox_events, param)
    ctes.append(f"outbox AS ({sql})")
    count = " + ".join(f"(SELECT count(*) FROM u{i})" for i in range(len(updated))) or "0"  # noqa: S608
    # The failing branch names the parameter, so PostgreSQL cannot fold it into a constant error at planning time.
    failed = f"('{LOST_RACE_GUARD}: ' || matched || ' of ' || ${param})::bigint"
    if not lock_guard:
        guard = f"CASE WHEN matched = ${param} THEN matched ELSE {failed} END"
        return f"WITH {', '.join(ctes)} SELECT {guard} FROM (SELECT {count} AS matched) AS w"  # noqa: S608 (names and constants only)
    free = f"(SELECT bool_and(pg_try_advisory_xact_lock(key)) FROM unnest(${param + 1}::bigint[]) AS key)"  # noqa: S608
    guard = f"CASE WHEN matched = ${param} AND free THEN matched ELSE {failed} END"
    return f"WITH {', '.join(ctes)} SELECT {guard} FROM (SELECT {count} AS matched, {free} AS free) AS w"  # noqa: S608


# -- repositories answering from prefetched rows (shared by the prefetching units of work) ----------------------
class ById(Generic[E]):
    """``get`` by id among prefetched rows of several kinds: only a row of ``kind`` answers."""

    def __init__(self, rows: dict[uuid.UUID, Any], kind: type[E]) -> None:
        self._rows, self._kind = rows, kind

    async def get(self, id: uuid.UUID) -> E | None:
        found = self._rows.get(id)
        return found if isinstance(found, self._kind) else None


class PrefetchedPolicies:
    """Policies and their versions in force (by policy id), as prefetched."""

    def __init__(self, policies: dict[uuid.UUID, Policy], versions: dict[uuid.UUID, PolicyVersion]) -> None:
        self._policies, self._versions = policies, versions

    async def get(self, id: uuid.UUID) -> Policy | None:
        return self._policies.get(id)

    async def current_version(self, policy_id: uuid.UUID) -> PolicyVersion | None:
        return self._versions.get(policy_id)
