"""Backtest jobs in PostgreSQL: the job row (lease, keyset cursor, progress), its hits, the stored events it reads
in keyset chunks of a region and period, and the version under test compiled as the live rule sets are.

Every chunk's hits and the cursor move in one transaction guarded by the job's state and lease, so a cancelled
job or one another process took over writes nothing more, and a chunk run twice (a crash after the commit is
impossible to tell from one before) inserts its hits once (``ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

import asyncpg
import orjson
import sqlalchemy as sa

from domain.errors import DomainError
from domain.rules import ListIndex, ListKind, ListSnapshot, RuleError, RuleSet, define_rule
from domain.rules.event import Event
from domain.services.backtests import LEASE, BacktestHit, Compiled, StoredEvent
from domain.services.rules import catalogue
from persistence.audit import AuditRecord
from persistence.fast.sql import audit_arrays, insert_cte
from persistence.rule_stats import BUCKET_SQL, JUDGED_SQL
from persistence.rules import DEFAULT_SIGNALS
from persistence.tables.audit import audit_events
from persistence.tables.backtests import rule_backtests
from persistence.uow import RecordKind, SqlUnitOfWork, Subject

BACKTEST = RecordKind("RuleBacktest")

_VERSION = """
SELECT r.region, v.source FROM rules r JOIN rule_versions v ON v.rule_id = r.id AND v.number = $2 WHERE r.id = $1
"""
_LISTS = """
SELECT l.name, l.kind, l.current_version,
       coalesce(array_agg(e.value) FILTER (WHERE e.value IS NOT NULL), '{}') AS entries
FROM named_lists l LEFT JOIN named_list_entries e ON e.list_id = l.id AND e.removed_in IS NULL
WHERE l.region = $1 GROUP BY l.id
"""
_EVENTS = """
SELECT id, occurred_at, type, region, entities, attributes, idempotency_key FROM platform_events
WHERE region = $1 AND occurred_at >= $2 AND occurred_at < $3
  AND ($4::timestamptz IS NULL OR (occurred_at, id) > ($4, $5::uuid))
ORDER BY occurred_at, id LIMIT $6
"""
_COLUMNS = """id, rule_id, rule_version, region, state, period_start, period_end, cursor_at, cursor_id, scanned, hits,
failures, decided, confirmed, error, actor_id, principal_kind, lease_owner, lease_expires_at, finished_at,
retro_job_id, retroacted_at, created_at, updated_at, version"""
_ADVANCE = """
UPDATE rule_backtests SET cursor_at = $3, cursor_id = $4, scanned = scanned + $5, hits = hits + $6,
       failures = failures + $7, lease_expires_at = $8, updated_at = $9, version = version + 1
WHERE id = $1 AND state = 'RUNNING' AND lease_owner = $2 RETURNING id
"""
_HITS = """
INSERT INTO rule_backtest_hits (backtest_id, event_id, occurred_at, subject_kind, subject_id, actions)
SELECT $1, u.event_id, u.occurred_at, u.subject_kind, u.subject_id, u.actions::jsonb
FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[])
  AS u(event_id, occurred_at, subject_kind, subject_id, actions)
ON CONFLICT DO NOTHING
"""
_JUDGED = JUDGED_SQL.format(
    source="SELECT event_id AS key, 0 AS rule_version, occurred_at AS at, $2::text AS region, subject_kind, "
    "subject_id FROM rule_backtest_hits WHERE backtest_id = $1 AND subject_id IS NOT NULL",
    since="true",
)
_FINISH = """
UPDATE rule_backtests SET state = 'COMPLETED', decided = $3, confirmed = $4, finished_at = $5, updated_at = $5,
       lease_owner = NULL, lease_expires_at = NULL, version = version + 1
WHERE id = $1 AND state = 'RUNNING' AND lease_owner = $2 RETURNING id
"""
_TAKE = f"""
UPDATE rule_backtests SET lease_owner = $1, lease_expires_at = $2, updated_at = $3, version = version + 1
WHERE id = (SELECT id FROM rule_backtests
            WHERE state = 'RUNNING' AND (lease_expires_at IS NULL OR lease_expires_at < $3)
              AND ($4::uuid IS NULL OR id = $4) ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING {_COLUMNS}
"""  # noqa: S608 (constants only)
_SAMPLE = f"""
SELECT event_id, occurred_at, subject_kind, subject_id, actions FROM rule_backtest_hits WHERE backtest_id = $1
ORDER BY {BUCKET_SQL.format("event_id")}, event_id LIMIT $2
"""  # noqa: S608 (constants only)
BATCH: Final = 2_000
RUNNER: Final = "system:backtests"
_AUDIT_SQL, _ = insert_cte(audit_events, 1)


async def _audit(
    conn: asyncpg.Connection, action: str, job_id: uuid.UUID, region: str, now: datetime, after: dict[str, Any]
) -> None:
    """The runner's own writes (a takeover, the end of a job), audited as the system in their transaction."""
    record = AuditRecord(
        occurred_at=now,
        actor_kind="SYSTEM",
        actor_id=RUNNER,
        action=action,
        subject_kind=BACKTEST.kind,
        subject_id=str(job_id),
        region=region,
        after=after,
    )
    await conn.fetch(_AUDIT_SQL, *audit_arrays([record]))


async def compile_version(pool: asyncpg.Pool, rule_id: uuid.UUID, version: int) -> Compiled:
    """The rule version alone in a rule set over its region's lists as they are now (as the live sets are built)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_VERSION, rule_id, version)
        if row is None:
            raise DomainError.not_found("no such rule version", "version")
        lists = await conn.fetch(_LISTS, row["region"])
        policies = frozenset(await conn.fetchval("SELECT coalesce(array_agg(code), '{}') FROM policies"))
        classifiers = frozenset(
            await conn.fetchval("SELECT coalesce(array_agg(DISTINCT classifier), '{}') FROM automation_rules")
        )
    known = catalogue({r["name"]: ListKind(r["kind"]) for r in lists}, policies, DEFAULT_SIGNALS | classifiers)
    try:
        rule = define_rule(row["source"], known, rule_id=str(rule_id), version=version)
    except RuleError as exc:
        raise DomainError.invalid_state(f"this rule version no longer compiles ({exc.code})", "version") from exc
    snapshots = [ListSnapshot(r["name"], ListKind(r["kind"]), r["current_version"], list(r["entries"])) for r in lists]
    return Compiled(rule, RuleSet([rule], ListIndex(snapshots)), known)


async def create(
    uow: SqlUnitOfWork,
    *,
    rule_id: uuid.UUID,
    version: int,
    region: str,
    start: datetime,
    end: datetime,
    principal_kind: str,
    lease_owner: str | None,
) -> uuid.UUID:
    now = uow.clock.now()
    job_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": job_id,
        "rule_id": rule_id,
        "rule_version": version,
        "region": region,
        "state": "RUNNING",
        "period_start": start,
        "period_end": end,
        "scanned": 0,
        "hits": 0,
        "failures": 0,
        "actor_id": uow.audit.actor_id,
        "principal_kind": principal_kind,
        "request_id": uow.audit.request_id,
        "lease_owner": lease_owner,
        "lease_expires_at": now + LEASE if lease_owner else None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    await uow.session.execute(sa.insert(rule_backtests).values(values))
    after = {"rule_id": str(rule_id), "rule_version": version, "start": start.isoformat(), "end": end.isoformat()}
    uow.record(BACKTEST, Subject(job_id, region), action="backtestRule", after=after)
    return job_id


async def get(pool: asyncpg.Pool, job_id: uuid.UUID) -> asyncpg.Record | None:
    async with pool.acquire() as conn:
        return await conn.fetchrow(f"SELECT {_COLUMNS} FROM rule_backtests WHERE id = $1", job_id)  # noqa: S608


async def cancel(uow: SqlUnitOfWork, job_id: uuid.UUID) -> str | None:
    """Cancel a RUNNING job (its running chunk writes nothing more); the job's state after, None if unknown."""
    table = rule_backtests
    now = uow.clock.now()
    state = (
        await uow.session.execute(
            sa.select(table.c.state, table.c.region).where(table.c.id == job_id).with_for_update()
        )
    ).first()
    if state is None:
        return None
    if state.state != "RUNNING":
        raise DomainError.invalid_state(f"this backtest is {state.state}", "id")
    await uow.session.execute(
        sa.update(table)
        .where(table.c.id == job_id)
        .values(
            state="CANCELLED",
            finished_at=now,
            updated_at=now,
            lease_owner=None,
            lease_expires_at=None,
            version=table.c.version + 1,
        )
    )
    uow.record(BACKTEST, Subject(job_id, state.region), action="cancelRuleBacktest", after={"state": "CANCELLED"})
    return "CANCELLED"


async def take_lease(
    pool: asyncpg.Pool, owner: str, now: datetime, job_id: uuid.UUID | None = None
) -> asyncpg.Record | None:
    """Lease one RUNNING job nobody holds (or whose lease expired); ``job_id`` to take that one only."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(_TAKE, owner, now + LEASE, now, job_id)
        if row is not None:
            await _audit(conn, "resumeRuleBacktest", row["id"], row["region"], now, {"lease_owner": owner})
        return row


async def release(pool: asyncpg.Pool, job_id: uuid.UUID, owner: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE rule_backtests SET lease_expires_at = NULL "
            "WHERE id = $1 AND lease_owner = $2 AND state = 'RUNNING'",
            job_id,
            owner,
        )


def _event(row: asyncpg.Record) -> StoredEvent:
    entities = orjson.loads(row["entities"])
    attributes = orjson.loads(row["attributes"])
    event = Event(
        type=row["type"],
        region=row["region"],
        entities=MappingProxyType(dict(entities)),
        attributes=MappingProxyType(dict(attributes)),
        occurred_at=row["occurred_at"],
        idempotency_key=row["idempotency_key"],
    )
    return StoredEvent(row["id"], event)


async def read_events(
    pool: asyncpg.Pool,
    region: str,
    start: datetime,
    end: datetime,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[StoredEvent]:
    """The region's events of [start, end) after the keyset position, in (occurred_at, id) order."""
    at, key = after if after is not None else (None, None)
    async with pool.acquire() as conn:
        rows = await conn.fetch(_EVENTS, region, start, end, at, key, limit)
    return [_event(r) for r in rows]


async def warm_up_events(
    pool: asyncpg.Pool, region: str, since: datetime, upto: tuple[datetime, uuid.UUID] | None, until: datetime
) -> AsyncIterator[list[StoredEvent]]:
    """The events from ``since`` up to and including the cursor ``upto`` (or before ``until`` without one), batch
    by batch: what the counters of a resumed job replay."""
    position: tuple[datetime, uuid.UUID] | None = None
    end = upto[0] + timedelta(microseconds=1) if upto is not None else until
    while True:
        batch = await read_events(pool, region, since, end, position, BATCH)
        if upto is not None:
            batch = [e for e in batch if (e.event.occurred_at, e.id) <= upto]
        if not batch:
            return
        yield batch
        position = (batch[-1].event.occurred_at, batch[-1].id)


async def advance(
    pool: asyncpg.Pool,
    job_id: uuid.UUID,
    owner: str,
    *,
    hits: Sequence[BacktestHit],
    cursor: tuple[datetime, uuid.UUID],
    scanned: int,
    failures: int,
    now: datetime,
) -> bool:
    """The chunk's hits and the new cursor, in one transaction; False if the job is no longer this owner's to run
    (cancelled, finished, taken over): nothing is written then."""
    async with pool.acquire() as conn, conn.transaction():
        moved = await conn.fetchval(
            _ADVANCE, job_id, owner, cursor[0], cursor[1], scanned, len(hits), failures, now + LEASE, now
        )
        if moved is None:
            return False
        if hits:
            await conn.execute(
                _HITS,
                job_id,
                [h.event_id for h in hits],
                [h.occurred_at for h in hits],
                [h.subject[0] if h.subject else None for h in hits],
                [h.subject[1] if h.subject else None for h in hits],
                [orjson.dumps(list(h.actions)).decode() for h in hits],
            )
    return True


async def finish(pool: asyncpg.Pool, job_id: uuid.UUID, owner: str, region: str, now: datetime) -> bool:
    """COMPLETED, with the precision against past human decisions on the hits' subjects."""
    async with pool.acquire() as conn, conn.transaction():
        judged = await conn.fetchrow(_JUDGED, job_id, region)
        decided = judged["decided"] if judged else 0
        confirmed = judged["confirmed"] if judged else 0
        if await conn.fetchval(_FINISH, job_id, owner, decided, confirmed, now) is None:
            return False
        after = {"state": "COMPLETED", "decided": decided, "confirmed": confirmed}
        await _audit(conn, "completeRuleBacktest", job_id, region, now, after)
        return True


async def fail(pool: asyncpg.Pool, job_id: uuid.UUID, owner: str, message: str, now: datetime) -> None:
    async with pool.acquire() as conn, conn.transaction():
        region = await conn.fetchval(
            "UPDATE rule_backtests SET state = 'FAILED', error = $3, finished_at = $4, updated_at = $4, "
            "lease_owner = NULL, lease_expires_at = NULL, version = version + 1 "
            "WHERE id = $1 AND state = 'RUNNING' AND lease_owner = $2 RETURNING region",
            job_id,
            owner,
            message[:500],
            now,
        )
        if region is not None:
            await _audit(conn, "failRuleBacktest", job_id, region, now, {"state": "FAILED", "error": message[:500]})


async def sample_hits(pool: asyncpg.Pool, job_id: uuid.UUID, limit: int) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return list(await conn.fetch(_SAMPLE, job_id, limit))


async def matched_subjects(pool: asyncpg.Pool, job_id: uuid.UUID, limit: int) -> list[tuple[str, str]]:
    """Distinct (kind, platform id) subjects the backtest matched, in a stable order."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT subject_kind, subject_id FROM rule_backtest_hits WHERE backtest_id = $1 "
            "AND subject_id IS NOT NULL ORDER BY subject_kind, subject_id LIMIT $2",
            job_id,
            limit,
        )
    return [(r["subject_kind"], r["subject_id"]) for r in rows]


DEFAULT_PERIOD: Final = timedelta(days=7)


async def version_policy(pool: asyncpg.Pool, rule_id: uuid.UUID, version: int) -> uuid.UUID | None:
    async with pool.acquire() as conn:
        value = await conn.fetchval(
            "SELECT policy_id FROM rule_versions WHERE rule_id = $1 AND number = $2", rule_id, version
        )
    return None if value is None else uuid.UUID(str(value))


async def matched_events(
    pool: asyncpg.Pool,
    job_id: uuid.UUID,
    kinds: Sequence[str],
    limit: int,
    skip: Collection[tuple[str, str]] = (),
) -> dict[str, list[StoredEvent]]:
    """Per entity kind, one matched event for each distinct entity of that kind the backtest's hits name (the latest
    of its hits), at most ``limit`` per kind, in a stable order; hits whose subject is in ``skip`` (kind, platform
    id) do not count. An event dropped by retention since is not found."""
    found: dict[str, list[StoredEvent]] = {kind: [] for kind in kinds}
    if not kinds:
        return found
    skipped = sorted(skip)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            _MATCHED_EVENTS, job_id, list(kinds), limit, [k for k, _ in skipped], [i for _, i in skipped]
        )
    for row in rows:
        found[row["kind"]].append(_event(row))
    return found


# One event per (kind, entity): the latest hit naming it; numbered per kind by entity id, so the limit counts
# distinct entities.
_MATCHED_EVENTS = """
SELECT kind, id, occurred_at, type, region, entities, attributes, idempotency_key FROM (
  SELECT latest.*, row_number() OVER (PARTITION BY kind ORDER BY entity_id) AS nth FROM (
    SELECT DISTINCT ON (k.kind, e.entities ->> k.kind) k.kind, e.entities ->> k.kind AS entity_id, e.id,
           e.occurred_at, e.type, e.region, e.entities, e.attributes, e.idempotency_key
    FROM rule_backtest_hits h
      JOIN platform_events e ON e.id = h.event_id AND e.occurred_at = h.occurred_at
      CROSS JOIN unnest($2::text[]) AS k(kind)
    WHERE h.backtest_id = $1 AND e.entities ->> k.kind IS NOT NULL
      AND (h.subject_kind IS NULL
           OR (h.subject_kind, h.subject_id) NOT IN (SELECT * FROM unnest($4::text[], $5::text[])))
    ORDER BY k.kind, e.entities ->> k.kind, e.occurred_at DESC, e.id DESC
  ) AS latest
) AS ranked
WHERE nth <= $3
ORDER BY kind, entity_id
"""


async def mark_retroacted(
    uow: Any, job_id: uuid.UUID, region: str, bulk_job_id: uuid.UUID | None, *, cases: int, labels: int
) -> bool:
    """Record that the backtest was applied (once), with its bulk job if any, in the caller's unit of work."""
    table = rule_backtests
    now = uow.clock.now()
    done = await uow.session.execute(
        sa.update(table)
        .where(table.c.id == job_id, table.c.retroacted_at.is_(None), table.c.retro_job_id.is_(None))
        .values(retroacted_at=now, retro_job_id=bulk_job_id, updated_at=now, version=table.c.version + 1)
        .returning(table.c.id)
    )
    if done.first() is None:
        return False
    after = {"bulk_job_id": None if bulk_job_id is None else str(bulk_job_id), "cases": cases, "labels": labels}
    uow.record(BACKTEST, Subject(job_id, region), action="retroactRule", after=after)
    return True
