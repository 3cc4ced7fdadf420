"""The rules' backlog on PostgreSQL (``persistence.tables.rule_backlog``): what was accepted and still needs the rules.

A row is written with what it names, in the same transaction: ``submitEvents`` and ``vigil consume`` in the event
log's append statement, ``submitSignal`` in its unit of work, ``submitReport(s)`` in report intake's one write
statement (a ``Note`` handed to the unit of work: ``note_reports``); and deleted by one statement once the rules
ran on it. What a process left behind (it stopped, the evaluation failed) is claimed by
``claim_due`` (``FOR UPDATE SKIP LOCKED``, held until the claiming transaction ends: two processes never evaluate
one row at once) and evaluated again by ``evaluate``; a second evaluation is harmless (hits and actions are keyed
by rule and event, counters by member).

Stored platform events are named by id and read back from ``platform_events``; other events (a signal's scores, a
report's events) are stored whole, as the request built them (``to_json``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol, runtime_checkable

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ports import UnitOfWork
from domain.report import Report
from domain.rules.event import Event
from domain.services.events import Accepted
from domain.services.intake_events import filed_report_events
from domain.services.rule_runs import RunSummary, run_rules
from persistence.changeset import AuditContext
from persistence.counters import counter_store
from persistence.db import SessionFactory
from persistence.rule_ports import PostgresRunPorts
from persistence.rule_runtime import cache_for

TAKES_RETENTION_DAYS: Final = 31
"""Action records older than this are pruned: a backlog row is re-evaluated within seconds, not weeks."""

_ADD = """
INSERT INTO rule_backlog (id, source, event_ids, events, request_id, created_at)
VALUES ($1, $2, $3::uuid[], $4::jsonb, $5, $6) ON CONFLICT (id) DO NOTHING
"""
_ADD_SA = sa.text("""
INSERT INTO rule_backlog (id, source, events, request_id, created_at)
VALUES (:id, :source, CAST(:events AS jsonb), :request_id, :now) ON CONFLICT (id) DO NOTHING
""")
_DONE = "DELETE FROM rule_backlog WHERE id = $1"
_CLAIM = """
SELECT id, source, event_ids, events, request_id FROM rule_backlog
WHERE created_at <= $1 AND NOT (id = ANY($2::uuid[]))
ORDER BY created_at, id LIMIT 1
FOR UPDATE SKIP LOCKED
"""
_EVENTS = """
SELECT id, type, region, entities, attributes, occurred_at, idempotency_key FROM platform_events
WHERE id = ANY($1::uuid[])
"""
_TRIED = "UPDATE rule_backlog SET attempts = attempts + 1 WHERE id = $1"
_PRUNE_TAKES = "DELETE FROM rule_action_takes WHERE created_at < $1::timestamptz - make_interval(days => $2::int)"


def to_json(accepted: Sequence[Accepted]) -> str:
    """The events as the request built them: enough to rebuild each ``Accepted``."""
    return orjson.dumps(
        [
            {
                "id": str(a.event_id),
                "duplicate": a.duplicate,
                "type": a.event.type,
                "region": a.event.region,
                "entities": dict(a.event.entities),
                "attributes": dict(a.event.attributes),
                "occurred_at": a.event.occurred_at.isoformat(),
                "idempotency_key": a.event.idempotency_key,
                "signals": dict(a.event.signals),
            }
            for a in accepted
        ],
        default=str,
    ).decode()


def from_json(stored: Any) -> list[Accepted]:
    rows = _json(stored)
    return [
        Accepted(
            uuid.UUID(r["id"]),
            Event(
                type=r["type"],
                region=r["region"],
                entities=r["entities"],
                attributes=r["attributes"],
                occurred_at=datetime.fromisoformat(r["occurred_at"]),
                idempotency_key=r.get("idempotency_key", ""),
                signals=r.get("signals", {}),
            ),
            r.get("duplicate", False),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Note:
    """A row for events stored whole, not written yet: a unit of work writes it with its own commit
    (``NotesForRules``), so the row exists exactly when what it names does."""

    id: uuid.UUID
    source: str
    accepted: tuple[Accepted, ...]
    created_at: datetime
    request_id: str | None = None

    @classmethod
    def of(cls, source: str, accepted: Sequence[Accepted], now: datetime, request_id: str | None = None) -> Note | None:
        """The note of ``accepted``'s new events; None when there is none."""
        fresh = tuple(a for a in accepted if not a.duplicate)
        return cls(uuid.uuid4(), source, fresh, now, request_id) if fresh else None

    def params(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "events": to_json(self.accepted),
            "request_id": self.request_id,
            "now": self.created_at,
        }

    async def write_in(self, session: AsyncSession) -> None:
        """As a statement of a SQL unit of work's transaction."""
        await session.execute(_ADD_SA, self.params())


def notes_cte(notes: Sequence[Note], first_param: int) -> tuple[str, list[Any]]:
    """``INSERT INTO rule_backlog ...`` of ``notes`` as a data-modifying CTE's body for a statement whose
    parameters so far end before ``$first_param``, and the parameters it adds (one array per column)."""
    rows = [n.params() for n in notes]
    columns = (("id", "uuid"), ("source", "text"), ("events", "jsonb"), ("request_id", "text"), ("now", "timestamptz"))
    arrays = ", ".join(f"${first_param + i}::{kind}[]" for i, (_, kind) in enumerate(columns))
    names = "id, source, events, request_id, created_at"
    sql = f"INSERT INTO rule_backlog ({names}) SELECT * FROM unnest({arrays}) RETURNING 1"  # noqa: S608 (numbers only)
    return sql, [[row[name] for row in rows] for name, _ in columns]


@runtime_checkable
class NotesForRules(Protocol):
    """A unit of work that writes backlog rows with its commit (the SQL unit of work, report intake's)."""

    audit: AuditContext

    def note_for_rules(self, note: Note) -> None: ...


async def note_reports(
    uow: UnitOfWork, reports: Sequence[Report], regions: frozenset[str], since: datetime
) -> Note | None:
    """In a report intake's unit of work, after ``submit_report(s)``: the note of the events of the reports it filed
    in ``regions`` (those with active rules; created at or after ``since``, the attempt's start: an earlier
    request's report returned again is not new), handed to the unit of work to write with its commit. None (and
    nothing written) when there is none."""
    fresh = list({r.id: r for r in reports if r.created_at >= since and r.region.value in regions}.values())
    if not fresh:
        return None
    if not isinstance(uow, NotesForRules):
        raise TypeError(f"{type(uow).__name__} cannot write the rules' backlog with its commit")
    events = await filed_report_events(uow, fresh)
    note = Note.of("submitReports", events, uow.clock.now(), uow.audit.request_id)
    if note is not None:
        uow.note_for_rules(note)
    return note


async def add(
    pool: asyncpg.Pool, source: str, accepted: Sequence[Accepted], now: datetime, request_id: str | None = None
) -> uuid.UUID | None:
    """A row for events stored whole (one statement); its id, None when nothing needs the rules."""
    fresh = [a for a in accepted if not a.duplicate]
    if not fresh:
        return None
    backlog_id = uuid.uuid4()
    async with pool.acquire() as conn:
        await conn.execute(_ADD, backlog_id, source, None, to_json(fresh), request_id, now)
    return backlog_id


async def add_in_session(
    session: AsyncSession,
    source: str,
    accepted: Sequence[Accepted],
    now: datetime,
    request_id: str | None = None,
) -> uuid.UUID | None:
    """The same row written in a unit of work's transaction (committed, or not, with what it names)."""
    note = Note.of(source, accepted, now, request_id)
    if note is None:
        return None
    await note.write_in(session)
    return note.id


async def done(pool: asyncpg.Pool, backlog_id: uuid.UUID) -> None:
    """The rules ran on the row's events: the row goes (one statement)."""
    async with pool.acquire() as conn:
        await conn.execute(_DONE, backlog_id)


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    source: str
    request_id: str | None
    accepted: list[Accepted]


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


async def _rebuild(conn: asyncpg.Connection, row: asyncpg.Record) -> list[Accepted]:
    found: list[Accepted] = []
    if row["event_ids"]:
        by_id = {r["id"]: r for r in await conn.fetch(_EVENTS, list(row["event_ids"]))}
        for event_id in row["event_ids"]:  # in the order they were accepted; a pruned month's events are gone
            stored = by_id.get(event_id)
            if stored is None:
                continue
            event = Event(
                type=stored["type"],
                region=stored["region"],
                entities=_json(stored["entities"]),
                attributes=_json(stored["attributes"]),
                occurred_at=stored["occurred_at"],
                idempotency_key=stored["idempotency_key"],
            )
            found.append(Accepted(event_id, event, duplicate=False))
    if row["events"] is not None:
        found.extend(from_json(row["events"]))
    return found


@asynccontextmanager
async def claim_due(
    pool: asyncpg.Pool, older_than: datetime, tried: Sequence[uuid.UUID] = ()
) -> AsyncIterator[Claimed | None]:
    """The oldest row written at or before ``older_than`` that no other transaction holds (and not in ``tried``),
    locked until the block ends: the row is deleted if the block completes, kept (its ``attempts`` counted) if it
    raises. None when there is none."""
    async with pool.acquire() as conn:
        failed: BaseException | None = None
        claimed: Claimed | None = None
        try:
            async with conn.transaction():
                row = await conn.fetchrow(_CLAIM, older_than, list(tried))
                if row is not None:
                    claimed = Claimed(row["id"], row["source"], row["request_id"], await _rebuild(conn, row))
                try:
                    yield claimed
                except Exception as exc:
                    failed = exc
                    raise
                if claimed is not None:
                    await conn.execute(_DONE, claimed.id)
        finally:
            if failed is not None and claimed is not None:
                await conn.execute(_TRIED, claimed.id)


async def evaluate(
    pool: asyncpg.Pool,
    sessions: SessionFactory,
    redis_url: str | None,
    accepted: Sequence[Accepted],
    now: datetime,
    *,
    request_id: str | None = None,
    again: bool = False,
) -> RunSummary:
    """Run the rules on ``accepted`` (``again``: events that may have been evaluated before, so each action looks
    for its record first)."""
    loaded = await cache_for(pool).get()
    ports = PostgresRunPorts(pool, sessions, counter_store(pool, redis_url), request_id=request_id, again=again)
    return await run_rules(loaded, accepted, ports, now)


async def prune_takes(pool: asyncpg.Pool, now: datetime) -> int:
    """Delete the action records older than ``TAKES_RETENTION_DAYS``; how many."""
    async with pool.acquire() as conn:
        status: str = await conn.execute(_PRUNE_TAKES, now, TAKES_RETENTION_DAYS)
    return int(status.split()[-1])
