"""Audit events: written with their change, hash-chained after commit, verified on demand.

Writers never contend on a chain head. Each event stores `event_hash`, the SHA-256 of its canonical form, at
insert time (inside the transaction of its change). A sealer later appends rows to `audit_seals` in one
ordered pass: position n holds ``chain_hash = sha256(prev_hash : n : seq : event_hash)``, like a
certificate-transparency log merging entries. Events committed late (a lower `seq` whose transaction finished
after a higher one) are simply sealed in a later batch: the seal order is the log order. Both tables
refuse UPDATE, DELETE and TRUNCATE. The seal binds position and seq as well as the event's hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.availability import database_unavailable
from persistence.db import SessionFactory
from persistence.tables.audit import audit_events, audit_seals

log = logging.getLogger("vigil.audit")

GENESIS = "0" * 64
SEAL_LOCK = 0x5649_4749_4C00  # pg_advisory_xact_lock key: one sealer at a time


@dataclass(frozen=True)
class AuditRecord:
    occurred_at: datetime
    actor_kind: str
    actor_id: str
    action: str
    subject_kind: str
    subject_id: str
    region: str | None
    request_id: str | None = None
    reason: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


_NATIVE_JSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_NATIVE_JSON |= orjson.OPT_PASSTHROUGH_SUBCLASS


def canonical(fields: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8 (not ``\\u`` escapes), anything else as ``str()``: the bytes an event's hash
    covers. Events hold JSON-native values (``jsonable`` made them), which orjson writes byte for byte as
    ``json.dumps`` with these settings does (a test compares them over every character), several times faster;
    what it would write otherwise (datetimes, dataclasses, subclasses of str or int, integers past 64 bits) goes
    the ``json`` way. (A bare enum, which no event holds, is the one value orjson writes differently.)"""
    try:
        return orjson.dumps(fields, option=_NATIVE_JSON)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _hashable(record: Mapping[str, Any]) -> dict[str, Any]:
    occurred = record["occurred_at"]
    return {
        "occurred_at": occurred.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_kind": record["actor_kind"],
        "actor_id": record["actor_id"],
        "action": record["action"],
        "subject_kind": record["subject_kind"],
        "subject_id": record["subject_id"],
        "region": record["region"],
        "request_id": record["request_id"],
        "reason": record["reason"],
        "before": record["before"],
        "after": record["after"],
    }


def event_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(_hashable(record))).hexdigest()


def chain_hash(prev_hash: str, position: int, seq: int, ev_hash: str) -> str:
    """The seal at `position` over event `seq`: binds the event's place in the log, not only its content (so
    swapping two events' fields and seal pointers behind the database's back still breaks the chain)."""
    return hashlib.sha256(f"{prev_hash}:{position}:{seq}:{ev_hash}".encode()).hexdigest()


def jsonable(value: Any) -> Any:
    """Field values as JSON-native data (what JSONB returns unchanged), so hashes survive a round trip."""
    kind = type(value)  # the common exact types first: every audited field of every record passes here
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is uuid.UUID:
        return str(value)
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, str | int):  # enums
        return value.value
    return str(value)


def row_for(record: AuditRecord) -> dict[str, Any]:
    if record.occurred_at.tzinfo is None or record.occurred_at.utcoffset() is None:
        raise ValueError("audit events need a timezone-aware occurred_at")  # a naive time would hash differently
    row: dict[str, Any] = {
        "occurred_at": record.occurred_at,
        "actor_kind": record.actor_kind,
        "actor_id": record.actor_id,
        "action": record.action,
        "subject_kind": record.subject_kind,
        "subject_id": record.subject_id,
        "region": record.region,
        "request_id": record.request_id,
        "reason": record.reason,
        "before": jsonable(record.before) if record.before is not None else None,
        "after": jsonable(record.after) if record.after is not None else None,
    }
    row["event_hash"] = event_hash(row)
    return row


async def write_events(session: AsyncSession, records: list[AuditRecord]) -> None:
    """Insert events in the caller's transaction (one statement for the batch)."""
    if records:
        await session.execute(sa.insert(audit_events), [row_for(r) for r in records])


# -- sealing -------------------------------------------------------------------------------------------------
DEFAULT_BATCH = 5000
DEFAULT_LOOKBACK = 100_000
"""How far below the highest sealed `seq` a routine sealing pass looks for late commits. A full pass
(`lookback=None`) scans the whole table; the background sealer makes one at start and every few minutes, and
`vigil audit verify` makes one before verifying."""


@dataclass(frozen=True)
class SealHead:
    position: int
    chain_hash: str
    event_seq: int


async def seal_head(session: AsyncSession) -> SealHead | None:
    row = (
        await session.execute(
            sa.select(audit_seals.c.position, audit_seals.c.chain_hash, audit_seals.c.event_seq)
            .order_by(audit_seals.c.position.desc())
            .limit(1)
        )
    ).one_or_none()
    return SealHead(row.position, row.chain_hash, row.event_seq) if row is not None else None


async def seal_pending(
    session: AsyncSession,
    *,
    batch: int = DEFAULT_BATCH,
    lookback: int | None = DEFAULT_LOOKBACK,
    wait: bool = True,
) -> int:
    """Append seals for committed, unsealed events in seq order; returns how many. Caller commits.

    One sealer at a time (a transaction-scoped advisory lock). With `wait=False` a pass that finds another
    sealer at work returns 0 at once instead of queueing behind it (what N replicas ticking every 2 s want).
    `lookback` bounds the search for unsealed events to `seq > highest sealed seq - lookback`, so a routine
    pass costs O(lookback + batch) index probes, not O(table); None searches the whole table.
    """
    if wait:
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
    else:
        got = (await session.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})).scalar()
        if not got:
            return 0
    head = await seal_head(session)
    position, prev = (head.position, head.chain_hash) if head else (0, GENESIS)
    stmt = sa.select(audit_events.c.seq, audit_events.c.event_hash).where(
        ~sa.exists().where(audit_seals.c.event_seq == audit_events.c.seq)
    )
    if lookback is not None and head is not None:
        high = (await session.execute(sa.select(sa.func.max(audit_seals.c.event_seq)))).scalar_one()
        stmt = stmt.where(audit_events.c.seq > high - lookback)
    pending = (await session.execute(stmt.order_by(audit_events.c.seq).limit(batch))).all()
    if not pending:
        return 0
    now = datetime.now(UTC)
    seals = []
    for seq, ev_hash in pending:
        position += 1
        current = chain_hash(prev, position, seq, ev_hash)
        seals.append(
            {
                "position": position,
                "event_seq": seq,
                "prev_hash": prev,
                "chain_hash": current,
                "sealed_at": now,
            }
        )
        prev = current
    await session.execute(sa.insert(audit_seals), seals)
    return len(seals)


async def seal_all(
    sessions: SessionFactory, *, batch: int = DEFAULT_BATCH, lookback: int | None = None, wait: bool = True
) -> int:
    """Seal until nothing is pending, each batch in its own short transaction; returns how many."""
    total = 0
    while True:
        async with sessions() as session, session.begin():
            sealed = await seal_pending(session, batch=batch, lookback=lookback, wait=wait)
        total += sealed
        if sealed < batch:
            return total


class Busy(Protocol):
    """A background tick's trace handle: ``busy()`` once the tick found work (``api.tracing.Tick``)."""

    def busy(self) -> None: ...


class AuditSealer:
    """The background task of the running app: seals committed events every `interval` seconds.

    Each batch is its own short transaction (`seal_all`), skipped when another replica is sealing. A failed
    pass is logged and retried at the next tick: the trail is never lost, only sealed later.
    """

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        interval: float,
        batch: int = DEFAULT_BATCH,
        lookback: int = DEFAULT_LOOKBACK,
        full_sweep_every: int = 150,
        traced: Callable[[str], AbstractContextManager[Busy]] | None = None,
    ) -> None:
        """``traced``: a tick's trace scope (``api.tracing.background_tick``): a tick that sealed nothing leaves
        no trace."""
        self.sessions = sessions
        self.traced = traced
        self.interval = interval
        self.batch = batch
        self.lookback = lookback
        self.full_sweep_every = full_sweep_every
        self.passes = 0
        self.sealed = 0
        self.waiting_for_database = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="vigil-audit-sealer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def tick(self) -> int:
        full = self.passes % self.full_sweep_every == 0  # the first pass, then every few minutes
        self.passes += 1
        with self.traced("audit sealer") if self.traced is not None else contextlib.nullcontext(None) as traced:
            lookback = None if full else self.lookback
            sealed = await seal_all(self.sessions, batch=self.batch, lookback=lookback, wait=False)
            if sealed and traced is not None:
                traced.busy()
        self.sealed += sealed
        return sealed

    async def _run(self) -> None:
        while True:
            await self.tick_logged()
            await asyncio.sleep(self.interval)

    async def tick_logged(self) -> None:
        """One pass; a failure is logged, once per outage when the database is away (not every tick)."""
        try:
            await self.tick()
        except Exception as exc:
            if not database_unavailable(exc):
                log.exception("audit sealing failed; retrying at the next tick")
            elif not self.waiting_for_database:
                self.waiting_for_database = True
                log.warning("audit sealing paused: the database is unavailable")
        else:
            if self.waiting_for_database:
                self.waiting_for_database = False
                log.info("audit sealing resumed")


# -- verification -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VerifyResult:
    events_checked: int
    ok: bool
    first_broken_seq: int | None = None
    problem: str | None = None
    head_position: int = 0
    head_hash: str = GENESIS
    unsealed: int = 0


async def verify(session: AsyncSession, *, chunk: int = 5000) -> VerifyResult:
    """Walk the seals in order, recomputing each event's hash from its stored fields and the chain.

    A pass also reports the head (position and chain hash: compare it with a copy kept elsewhere to detect a
    truncated tail, which no chain can show by itself) and how many events are not sealed yet.
    """
    prev = GENESIS
    checked = 0
    after = 0
    while True:
        rows = (
            (
                await session.execute(
                    sa.select(audit_seals, audit_events)
                    .select_from(audit_seals.outerjoin(audit_events, audit_events.c.seq == audit_seals.c.event_seq))
                    .where(audit_seals.c.position > after)
                    .order_by(audit_seals.c.position)
                    .limit(chunk)
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            unsealed = (
                await session.execute(
                    sa.select(sa.func.count())
                    .select_from(audit_events)
                    .where(~sa.exists().where(audit_seals.c.event_seq == audit_events.c.seq))
                )
            ).scalar_one()
            return VerifyResult(checked, True, head_position=after, head_hash=prev, unsealed=unsealed)

        for row in rows:
            seq = row["event_seq"]
            problem = _seal_problem(dict(row), after + 1, prev)
            if problem is not None:
                return VerifyResult(checked, False, seq, problem, head_position=after, head_hash=prev)
            prev = row["chain_hash"]
            after = row["position"]
            checked += 1


def _seal_problem(row: Mapping[str, Any], position: int, prev: str) -> str | None:
    seq = row["event_seq"]
    if row["position"] != position:
        return f"seal position {position} is missing (the next seal is of event {seq})"
    if row["seq"] is None:
        return f"event {seq} was deleted"
    if row["prev_hash"] != prev:
        return f"the seal of event {seq} does not follow its predecessor"
    recomputed = event_hash(row)
    if recomputed != row["event_hash"]:
        return f"event {seq} was altered (its fields no longer match its hash)"
    if chain_hash(prev, position, seq, recomputed) != row["chain_hash"]:
        return f"event {seq} or its seal was altered (the chain does not match)"
    return None
