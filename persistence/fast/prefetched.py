"""A unit of work for hot commands whose reads are known up front: one transaction on a plain asyncpg
connection, the reads in one prefetch statement, the writes in one statement, audit events by construction.

Subclasses take the command's read set (``IntakeReads``, ``ClaimReads``, a bulk job), say what to lock
(``begin_sql``) and what to read (``prefetch``), and override the repositories of the domain's ``UnitOfWork`` port
that their read set covers; every other one raises ``NotLoaded`` when reached for, and an entity loaded without
being tracked refuses changes at once (``read_only``). The base class keeps the transaction and writes the change
set (``persistence.changeset``, the SQL unit of work's too): its inserts and its updates guarded by the version
they were loaded at, with their audit and outbox events, all in one statement of data-modifying CTEs. A version
that no longer matches raises ``LostRace`` (``persistence.retry`` runs the command again on fresh rows).

Round trips: ``BEGIN`` (with any advisory locks) · prefetch · write · ``COMMIT`` — four, whatever the batch size.

**Optimistic mode** (``optimistic=True``; report intake's first attempt): no ``BEGIN``, no locks: the prefetch
and the write each run as a statement of their own, so a request costs two round trips. That is safe because the
write is one statement (atomic on its own) and refuses to apply anything when it loses a race: a version-guarded
update that matches no row, or a subject lock someone holds (``unlocked_guard``: the write tries the locks for its
own short transaction), makes the whole statement fail (``LOST_RACE_GUARD``), and a case or report another request
inserted first is caught by its unique index. Either way nothing was written and ``LostRace`` (or the unique
violation) sends the caller to its next attempt, which runs locked.
"""

from __future__ import annotations

import functools
import uuid
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

import asyncpg

from domain import ports
from domain.clock import Clock, SystemClock
from domain.policy import Policy, PolicyVersion
from domain.region import Region
from domain.subject import SubjectKind
from persistence.changeset import AuditContext, ChangeSet
from persistence.fast.sql import audit_arrays, column_arrays, insert_cte, update_cte
from persistence.mapping import EntityMapping
from persistence.outbox import event_arrays
from persistence.retry import LostRace as LostRace  # raised here; callers import it from either module
from persistence.tables.audit import audit_events
from persistence.tables.outbox import outbox_events

E = TypeVar("E")


class NotLoaded(AssertionError):
    """A read outside a prefetching unit of work's read set, or a change to an entity it did not load for tracking:
    a programming error, raised at once (the SQL unit of work would have done it; this one would lose it)."""


def not_loaded(engine: str, what: str) -> NotLoaded:
    return NotLoaded(f"{engine} does not load {what}")


def read_only(entity: E) -> E:
    """``entity``, loaded but not tracked: assigning any of its fields raises ``NotLoaded`` at once instead of
    being lost at commit. (Its class becomes a subclass whose only difference is that.)"""
    kind: Any = type(entity)
    if not getattr(kind, "_read_only", False):
        entity.__class__ = _read_only_class(kind)
    return entity


@functools.cache
def _read_only_class(kind: type[Any]) -> type[Any]:
    def refuse(self: Any, name: str, value: Any) -> None:
        raise NotLoaded(f"{kind.__name__} {self.id} was not loaded for tracking: changing its {name} would be lost")

    namespace = {"__setattr__": refuse, "__slots__": (), "__module__": kind.__module__, "_read_only": True}
    return type(kind.__name__, (kind,), namespace)


class PrefetchedUnitOfWork:
    """The domain's ``UnitOfWork`` port (``domain.ports``), explicitly: each subclass overrides the repositories its
    read set covers; any other one raises ``NotLoaded`` when a service reaches for it."""

    engine: ClassVar[str] = "this unit of work"
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
        records: list[asyncpg.Record] = await self._round_trip(conn.fetch(sql, *args))
        return records

    # -- the port: repositories outside the read set ---------------------------------------------------------
    @property
    def accounts(self) -> ports.AccountRepository:
        raise not_loaded(self.engine, "accounts")

    @property
    def contents(self) -> ports.ContentRepository:
        raise not_loaded(self.engine, "contents")

    @property
    def ads(self) -> ports.AdRepository:
        raise not_loaded(self.engine, "ads")

    @property
    def policies(self) -> ports.PolicyRepository:
        raise not_loaded(self.engine, "policies")

    @property
    def reports(self) -> ports.ReportRepository:
        raise not_loaded(self.engine, "reports")

    @property
    def cases(self) -> ports.CaseRepository:
        raise not_loaded(self.engine, "cases")

    @property
    def decisions(self) -> ports.DecisionRepository:
        raise not_loaded(self.engine, "decisions")

    @property
    def actions(self) -> ports.EnforcementRepository:
        raise not_loaded(self.engine, "enforcement actions")

    @property
    def strikes(self) -> ports.StrikeRepository:
        raise not_loaded(self.engine, "strikes")

    @property
    def statements_of_reasons(self) -> ports.StatementRepository:
        raise not_loaded(self.engine, "statements of reasons")

    @property
    def appeals(self) -> ports.AppealRepository:
        raise not_loaded(self.engine, "appeals")

    @property
    def queues(self) -> ports.QueueRepository:
        raise not_loaded(self.engine, "queues")

    @property
    def qa_reviews(self) -> ports.QaRepository:
        raise not_loaded(self.engine, "QA reviews")

    @property
    def automation_rules(self) -> ports.AutomationRuleRepository:
        raise not_loaded(self.engine, "automation rules")

    @property
    def strike_ladders(self) -> ports.StrikeLadderRepository:
        raise not_loaded(self.engine, "strike ladders")

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
    def extra_write(self, first_param: int) -> tuple[str, list[Any]] | None:
        """One more insert to commit with the change set, in the same statement: a data-modifying CTE's body whose
        parameters start at ``$first_param``, and those parameters; None (the default): nothing more. (Report intake
        writes its rules' backlog row so.)"""
        return None

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
            if self.extra_write(1) is not None:
                raise AssertionError(f"{self.engine} has more to write but its change set is empty")
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
        if events:  # none (a report folded into its case, a lease renewed): no outbox CTE, nor its empty arrays
            params += event_arrays(events)
        params.append(sum(len(g[1]) for g in update_groups))
        guard = self.unlocked_guard() if self.optimistic else []
        if guard:
            params.append(guard)
        sql = _write_sql(tuple(g[0].table.name for g in insert_groups), tuple(written), bool(guard), bool(events))
        extra = self.extra_write(len(params) + 1)
        if extra is not None:  # one more data-modifying CTE, first in the statement, its parameters after the others
            extra_sql, extra_params = extra
            sql = f"WITH extra AS ({extra_sql}), {sql[len('WITH ') :]}"
            params += extra_params
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
    inserted: tuple[str, ...],
    updated: tuple[tuple[str, frozenset[str]], ...],
    lock_guard: bool = False,
    outbox: bool = True,
) -> str:
    """Inserts, version-guarded updates (of the columns that changed), audit and outbox events as data-modifying
    CTEs (foreign keys are checked at the end of the statement; without ``outbox`` there are no outbox events and
    no CTE for them). The next parameter is the number of rows the updates must match; if they match fewer, the
    statement fails (``LOST_RACE_GUARD``) and writes nothing. With ``lock_guard`` the last parameter holds advisory
    lock keys that must be free (``unlocked_guard``), else the statement fails the same way. One text per shape (a
    hot command changes the same columns each time), prepared once per connection."""
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
    if outbox:
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
    """``get`` by id among prefetched rows of several kinds: only a row of ``kind`` answers. The subjects' and
    cases' repositories of a unit of work that loads them by id and adds none."""

    def __init__(self, engine: str, rows: dict[uuid.UUID, Any], kind: type[E]) -> None:
        self._engine, self._rows, self._kind = engine, rows, kind

    async def get(self, id: uuid.UUID) -> E | None:
        found = self._rows.get(id)
        return found if isinstance(found, self._kind) else None

    async def get_by_external_id(self, region: Region, external_id: str) -> E | None:
        raise not_loaded(self._engine, f"{self._kind.__name__} by external id")

    async def find_open_for_subject(self, kind: SubjectKind, subject_id: uuid.UUID) -> E | None:
        raise not_loaded(self._engine, "open cases by subject")

    def add(self, entity: E) -> None:
        raise not_loaded(self._engine, f"new {self._kind.__name__} records")


class PrefetchedPolicies:
    """Policies and their versions in force (by policy id), as prefetched."""

    def __init__(
        self, engine: str, policies: dict[uuid.UUID, Policy], versions: dict[uuid.UUID, PolicyVersion]
    ) -> None:
        self._engine, self._policies, self._versions = engine, policies, versions

    async def get(self, id: uuid.UUID) -> Policy | None:
        return self._policies.get(id)

    async def current_version(self, policy_id: uuid.UUID) -> PolicyVersion | None:
        return self._versions.get(policy_id)

    async def get_by_code(self, code: str) -> Policy | None:
        raise not_loaded(self._engine, "policies by code")

    async def get_version(self, version_id: uuid.UUID) -> PolicyVersion | None:
        raise not_loaded(self._engine, "policy versions by id")

    def add(self, policy: Policy) -> None:
        raise not_loaded(self._engine, "new policies")

    def add_version(self, version: PolicyVersion) -> None:
        raise not_loaded(self._engine, "new policy versions")
