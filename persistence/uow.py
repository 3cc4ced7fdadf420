"""The SQL unit of work: one transaction, an identity map, change tracking by snapshot, audit by construction.

Every entity loaded through a repository is tracked with a snapshot of its loaded state. `flush()` inserts new
entities (in foreign-key order, one statement per table) and updates changed ones column-for-column guarded by
`WHERE version = <loaded>` (no row → CONFLICT: someone else changed it first); a unit of work bumps a row's
version once, however many flushes write it. On commit it writes one audit event per entity inserted or changed
in the unit of work (its state as found against its state as left), all stamped with one instant, the commit's,
in the same transaction. The prefetching units of work (``persistence.fast.prefetched``) follow the same rules, so the
two engines write the same rows and events (``tests/integration/differential``). Leaving `async with` without an
error commits; an error rolls everything back. Services and resolvers never commit. The same changes become
outbox events (``domain.outbox.events.events_of``), written in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, SystemClock
from persistence.audit import AuditRecord, write_events
from persistence.changeset import (
    AuditContext,
    Audited,
    ChangeSet,
    RecordKind,
    Subject,
    Update,
    audit_record,
    changed_columns,
)
from persistence.db import SessionFactory
from persistence.locks import subject_lock_key
from persistence.mapping import EntityMapping
from persistence.outbox import write_events as write_outbox
from persistence.retry import LostRace

if TYPE_CHECKING:
    from persistence.rule_backlog import Note

# The audit helpers live with the change set; everything that audits by hand imports them from here.
__all__ = ["AuditContext", "Audited", "RecordKind", "SqlUnitOfWork", "Subject", "audit_record", "changed_columns"]


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
        self.change_set = ChangeSet()
        self.events_written = 0
        self._repos: dict[str, Any] = {}
        self._recorded: list[AuditRecord] = []
        self._subject_locks: set[int] = set()
        self._notes: list[Note] = []

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
            self.change_set.clear()
            self._recorded.clear()
            self._subject_locks.clear()
            self._notes.clear()

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
        return self.change_set.get(mapping, entity_id)

    def track_loaded(self, mapping: EntityMapping[Any], row: Mapping[str, Any] | sa.RowMapping) -> Any:
        """The tracked instance for a loaded row (the one already in the identity map, if any)."""
        hit = self.change_set.get(mapping, row["id"])
        return hit if hit is not None else self.change_set.loaded(mapping, mapping.from_row(row))

    def register_new(self, mapping: EntityMapping[Any], entity: Any) -> None:
        self.change_set.added(mapping, entity)

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

    def note_for_rules(self, note: Note) -> None:
        """A row of the rules' backlog (``persistence.rule_backlog``), written at commit in this transaction: it
        exists exactly when what it names does. Bookkeeping, not audited."""
        self._notes.append(note)

    async def flush(self) -> None:
        """Write the rows changed so far, so the queries that follow see them (as an ORM's autoflush would). The
        audit and outbox events wait for the commit: one per entity per unit of work, whatever the flushes."""
        await self._flush(final=False)

    async def _flush(self, *, final: bool) -> None:
        """The change set's pending rows, one INSERT per table and one guarded UPDATE per row; at commit
        (``final``) its audit and outbox events too."""
        session = self.session
        new = self.change_set.new()
        by_table: dict[str, list[Any]] = {}
        for item in new:
            by_table.setdefault(item.mapping.table.name, []).append(item)
        for items in by_table.values():
            await session.execute(sa.insert(items[0].mapping.table), [i.mapping.to_row(i.entity) for i in items])
            for i in items:
                self.change_set.written(i)
        for update in list(self.change_set.updates()):
            await self._update(session, update)
        if final:
            records, events = self.change_set.settle(self.audit, self.clock.now())
            records += self._recorded
            self._recorded = []
            await write_events(session, records)
            await write_outbox(session, events)
            self.events_written += len(records)
            notes, self._notes = self._notes, []
            for note in notes:
                await note.write_in(session)

    async def _update(self, session: AsyncSession, update: Update) -> None:
        item = update.item
        table = item.mapping.table
        result = await session.execute(
            sa.update(table)
            .where(table.c.id == item.entity.id, table.c.version == update.guard)
            .values(**update.columns, version=update.version)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise LostRace(f"{item.mapping.kind} {item.entity.id} was changed by someone else; reload and try again")
        item.entity.version = update.version
        self.change_set.written(item)
