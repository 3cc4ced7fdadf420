"""Audit events: written with their change, hash-chained after commit, verified on demand.

Writers never contend on a chain head. Each event stores `event_hash`, the SHA-256 of its canonical form, at
insert time (inside the transaction of its change). A sealer later appends rows to `audit_seals` in one
ordered pass: position n holds ``chain_hash = sha256(prev_hash || event_hash)``, like a certificate-transparency
log merging entries. Events committed late (a lower `seq` whose transaction finished after a higher one) are
simply sealed in a later batch: the seal order is the log order. Both tables refuse UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.tables.audit import audit_events, audit_seals

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


def canonical(fields: Mapping[str, Any]) -> bytes:
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


def chain_hash(prev_hash: str, ev_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}{ev_hash}".encode()).hexdigest()


def jsonable(value: Any) -> Any:
    """Field values as JSON-native data (what JSONB returns unchanged), so hashes survive a round trip."""
    if value is None or isinstance(value, bool | int | str):
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


async def seal_pending(session: AsyncSession, *, batch: int = 5000) -> int:
    """Append seals for committed, unsealed events in seq order; returns how many. Caller commits."""
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
    last = (
        await session.execute(
            sa.select(audit_seals.c.position, audit_seals.c.chain_hash).order_by(audit_seals.c.position.desc()).limit(1)
        )
    ).one_or_none()
    position, prev = (last.position, last.chain_hash) if last else (0, GENESIS)
    pending = (
        await session.execute(
            sa.select(audit_events.c.seq, audit_events.c.event_hash)
            .where(~sa.exists().where(audit_seals.c.event_seq == audit_events.c.seq))
            .order_by(audit_events.c.seq)
            .limit(batch)
        )
    ).all()
    if not pending:
        return 0
    now = datetime.now(UTC)
    seals = []
    for seq, ev_hash in pending:
        position += 1
        current = chain_hash(prev, ev_hash)
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


@dataclass(frozen=True)
class VerifyResult:
    events_checked: int
    ok: bool
    first_broken_seq: int | None = None
    problem: str | None = None


async def verify(session: AsyncSession, *, chunk: int = 5000) -> VerifyResult:
    """Walk the seals in order, recomputing each event's hash from its stored fields and the chain."""
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
            return VerifyResult(events_checked=checked, ok=True)
        for row in rows:
            seq = row["event_seq"]
            if row["position"] != after + 1:
                return VerifyResult(checked, False, seq, f"seal position {after + 1} is missing")
            after = row["position"]
            if row["seq"] is None:
                return VerifyResult(checked, False, seq, f"event {seq} was deleted")
            if row["prev_hash"] != prev:
                return VerifyResult(checked, False, seq, f"seal of event {seq} does not follow its predecessor")
            recomputed = event_hash(dict(row))
            if recomputed != row["event_hash"] or chain_hash(prev, recomputed) != row["chain_hash"]:
                return VerifyResult(checked, False, seq, f"event {seq} was altered")
            prev = row["chain_hash"]
            checked += 1
