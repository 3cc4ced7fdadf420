"""The SQL unit of work: one transaction, an identity map, change tracking by snapshot, audit by construction.

Every entity loaded through a repository is tracked with a snapshot of its loaded state. `flush()` inserts new
entities (in foreign-key order, one statement per table) and updates changed ones column-for-column guarded by
`WHERE version = <loaded>` (no row → CONFLICT: someone else changed it first); a unit of work bumps a row's
version once, however many flushes write it. On commit it writes one audit event per entity inserted or changed
in the unit of work (its state as found against its state as left), all stamped with one instant, the commit's,
in the same transaction. The prefetching units of work (``persistence.prefetched``) follow the same rules, so the
two engines write the same rows and events (``tests/integration/differential``). Leaving `async with` without an
error commits; an error rolls everything back. Services and resolvers never commit. The same changes become
outbox events (``domain.events.events_of``), written in the same transaction.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, SystemClock
from domain.events import DomainEvent, events_of
from persistence.audit import AuditRecord, write_events
from persistence.db import SessionFactory
from persistence.locks import subject_lock_key
from persistence.mapping import EntityMapping
from persistence.metadata import metadata
from persistence.outbox import write_events as write_outbox
from persistence.retry import LostRace


@dataclass(frozen=True)
class AuditContext:
    """Who is acting, in which request, doing what (the operation names the audit events' action)."""

    actor_kind: str
    actor_id: str
    operation: str
    request_id: str | None = None
    reason: str | None = None


@dataclass
class _Tracked:
    mapping: EntityMapping[Any]
    entity: Any
    snapshot: dict[str, Any] | None  # the row as last written or loaded; None: new, not inserted yet
    base: dict[str, Any] | None  # the row as this unit of work found it (None: new in it): what the audit compares


class SqlUnitOfWork:
    def __init__(
        self,
        sessions: SessionFactory,
        audit: AuditContext,
        *,
        clock: Clock | None = None,
        regions: frozenset[str] | None = None,
    ) -> None:
        """`regions`: the data regions this unit of work may see (None: all). Records of other regions are
        invisible to its repositories, so a command on them fails as NOT_FOUND and changes nothing."""
        self._sessions = sessions
        self.regions = regions
        self.audit = audit
        self.clock: Clock = clock or SystemClock()
        self._session: AsyncSession | None = None
        self._tracked: dict[tuple[str, uuid.UUID], _Tracked] = {}
        self.events_written = 0
        self._repos: dict[str, Any] = {}
        self._recorded: list[AuditRecord] = []
        self._subject_locks: set[int] = set()

    # -- transaction -------------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self.session
        try:
            if exc_type is None:
                await self._flush(final=True)
                await session.commit()
            else:
                await session.rollback()
        finally:
            await session.close()
            self._session = None
            self._tracked.clear()
            self._recorded.clear()
            self._subject_locks.clear()

    async def commit(self) -> None:
        """Flush, write the events and commit now (the context manager does this on a clean exit)."""
        await self._flush(final=True)
        await self.session.commit()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._session

    async def lock_subject(self, subject_id: uuid.UUID) -> None:
        """Take the subject's advisory lock for the rest of the transaction (once per unit of work), as its own
        statement: a read after it sees everything committed by whoever held the lock before."""
        key = subject_lock_key(subject_id)
        if key in self._subject_locks:
            return
        await self.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        self._subject_locks.add(key)

    # -- tracking ----------------------------------------------------------------------------------------
    def tracked(self, mapping: EntityMapping[Any], entity_id: uuid.UUID) -> Any | None:
        hit = self._tracked.get((mapping.table.name, entity_id))
        return hit.entity if hit is not None else None

    def track_loaded(self, mapping: EntityMapping[Any], row: Mapping[str, Any] | sa.RowMapping) -> Any:
        """The tracked instance for a loaded row (the one already in the identity map, if any)."""
        key = (mapping.table.name, row["id"])
        hit = self._tracked.get(key)
        if hit is not None:
            return hit.entity
        entity = mapping.from_row(row)
        snapshot = mapping.snapshot(entity)
        self._tracked[key] = _Tracked(mapping, entity, snapshot, snapshot)
        return entity

    def register_new(self, mapping: EntityMapping[Any], entity: Any) -> None:
        key = (mapping.table.name, entity.id)
        if key in self._tracked:
            raise ValueError(f"{mapping.kind} {entity.id} is already in this unit of work")
        self._tracked[key] = _Tracked(mapping, entity, None, None)

    # -- writing -----------------------------------------------------------------------------------------
    def record(
        self,
        kind: Audited,
        subject: Subject,
        *,
        action: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Audit a write made by statement on ``session`` (not through a tracked entity), as ``action`` (at
        ``at``, default now): the event is written with the next flush, in the same transaction."""
        audit = AuditContext(
            self.audit.actor_kind, self.audit.actor_id, action, self.audit.request_id, self.audit.reason
        )
        self._recorded.append(audit_record(audit, at or self.clock.now(), kind, subject, before, after))

    async def flush(self) -> None:
        """Write the rows changed so far, so the queries that follow see them (as an ORM's autoflush would). The
        audit and outbox events wait for the commit: one per entity per unit of work, whatever the flushes."""
        await self._flush(final=False)

    async def _flush(self, *, final: bool) -> None:
        session = self.session
        order = _table_order()
        new = sorted(
            (t for t in self._tracked.values() if t.snapshot is None), key=lambda t: order[t.mapping.table.name]
        )
        by_table: dict[str, list[_Tracked]] = {}
        for item in new:
            by_table.setdefault(item.mapping.table.name, []).append(item)
        for items in by_table.values():
            table = items[0].mapping.table
            await session.execute(sa.insert(table), [i.mapping.to_row(i.entity) for i in items])
            for i in items:
                i.snapshot = i.mapping.snapshot(i.entity)
        inserted = {id(i) for i in new}
        for item in self._tracked.values():
            if id(item) not in inserted:
                await self._update(session, item)
        if final:
            await self._write_events()

    async def _update(self, session: AsyncSession, item: _Tracked) -> None:
        """The row's changed columns, guarded by the version it has now. A unit of work bumps a row's version once
        (a row it inserted keeps the version it was inserted with), however many flushes write it."""
        assert item.snapshot is not None
        changed = changed_columns(item.mapping, item.entity, item.snapshot)
        if not changed:
            return
        table = item.mapping.table
        current = item.snapshot["version"]
        bump = item.base is not None and current == item.base["version"]
        written = current + 1 if bump else current
        result = await session.execute(
            sa.update(table)
            .where(table.c.id == item.entity.id, table.c.version == current)
            .values(**changed, version=written)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise LostRace(f"{item.mapping.kind} {item.entity.id} was changed by someone else; reload and try again")
        item.entity.version = written
        item.snapshot = item.mapping.snapshot(item.entity)

    async def _write_events(self) -> None:
        """One audit event (and its outbox events) per entity inserted or changed since this unit of work found
        it, all at one instant (the commit's), then the hand-audited records; the baselines move to now."""
        now = self.clock.now()
        records: list[AuditRecord] = []
        events: list[DomainEvent] = []
        for item in self._tracked.values():
            assert item.snapshot is not None
            if item.base is None:
                records.append(audit_record(self.audit, now, item.mapping, item.entity, None, item.snapshot))
                events += events_of(item.entity, None, now)
            else:
                changed = changed_columns(item.mapping, item.entity, item.base)
                if not changed:
                    continue
                before = {k: item.base[k] for k in changed}
                records.append(audit_record(self.audit, now, item.mapping, item.entity, before, changed))
                events += events_of(item.entity, before, now)
            item.base = item.snapshot
        records += self._recorded
        self._recorded = []
        await write_events(self.session, records)
        await write_outbox(self.session, events)
        self.events_written += len(records)


@functools.cache
def _table_order() -> dict[str, int]:
    """Tables in foreign-key order (sorting the metadata costs more than a whole small flush: done once)."""
    return {t.name: i for i, t in enumerate(metadata.sorted_tables)}


class Audited(Protocol):
    """What an audit event's subject is: its ``kind`` and the view of its values an event may show.
    ``EntityMapping`` is one; ``RecordKind`` names records written outside the entity mappings."""

    @property
    def kind(self) -> str: ...

    def audit_view(self, values: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RecordKind:
    """A kind of record whose writes a unit of work audits by hand (``SqlUnitOfWork.record``): principals, tokens,
    refused mutations. Its events show the values given, as given."""

    kind: str

    def audit_view(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return dict(values)


@dataclass(frozen=True)
class Subject:
    """The subject of a hand-audited write: its id and its data region (None: no region in particular)."""

    id: Any
    region: str | None = None


def audit_record(
    audit: AuditContext,
    now: datetime,
    mapping: Audited,
    entity: Any,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> AuditRecord:
    """The audit event of one inserted (``before`` None) or changed entity, or of a hand-audited write: every
    audit record is built here (the SQL and prefetching units of work, principals and tokens, refusals)."""
    region = getattr(entity, "region", None)
    return AuditRecord(
        occurred_at=now,
        actor_kind=audit.actor_kind,
        actor_id=audit.actor_id,
        action=audit.operation,
        subject_kind=mapping.kind,
        subject_id=str(entity.id),
        region=getattr(region, "value", region),
        request_id=audit.request_id,
        reason=audit.reason,
        before=mapping.audit_view(before) if before is not None else None,
        after=mapping.audit_view(after) if after is not None else None,
    )


def changed_columns(mapping: EntityMapping[Any], entity: Any, snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The columns that differ from the loaded snapshot (``version`` aside)."""
    current = mapping.snapshot(entity)
    return {k: v for k, v in current.items() if snapshot[k] != v and k != "version"}
