"""The platform event log in PostgreSQL: monthly partitions made on demand, a batch appended in one transaction with
its audit record, and retention that drops whole months.

Append: ``BEGIN``; one statement inserts the batch's keys into ``platform_event_keys`` (``ON CONFLICT DO NOTHING``)
and, for the keys it inserted, the events (data-modifying CTEs over the batch, sent as one JSON parameter read by
``json_to_recordset``); a second statement reads the keys that were already there (retries) to tell a duplicate from
a key reused for other content; a third writes the audit record; ``COMMIT``. The first statement also writes the
rules' backlog row (``persistence.rule_backlog``: the batch's id, naming the events it inserted) when the log was
opened with a ``backlog`` source: the events and the note that they still need the rules commit together. One audit
record per batch and region, not per event: events are data the platform reports (immutable, each row naming its
source and batch), not decisions, and an audit row per event would double the write volume of the busiest path for
nothing an investigator needs (the batch record names who sent how many of which type; the rows are one query away
by ``batch_id``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import orjson

from domain.services.events import Accepted, NewEvent, make_accepted
from persistence.audit import AuditRecord
from persistence.fast.sql import audit_arrays, insert_cte
from persistence.tables.audit import audit_events
from persistence.tables.events import PARTITION_SCHEMA
from persistence.uow import AuditContext

log = logging.getLogger("vigil.events")

PARTITION_LOCK = 0x5649_4749_4C45  # pg_advisory_xact_lock key: one partition creator at a time
_PREFIX = "platform_events_"

_APPEND = """
WITH u AS (
  SELECT * FROM ROWS FROM (json_to_recordset($1::json) AS (id uuid, region text, key text, occurred_at timestamptz,
                          type text, entities jsonb, attributes jsonb, digest text)) WITH ORDINALITY
    AS u(id, region, key, occurred_at, type, entities, attributes, digest, n)
), k AS (
  INSERT INTO platform_event_keys (region, idempotency_key, event_id, occurred_at, digest)
  SELECT region, key, id, occurred_at, digest FROM u ORDER BY region, key
  ON CONFLICT DO NOTHING RETURNING event_id
), b AS (
  INSERT INTO rule_backlog (id, source, event_ids, request_id, created_at)
  SELECT $3, $5::text, array_agg(k.event_id), $6::text, $4 FROM k WHERE $5::text IS NOT NULL HAVING count(*) > 0
), e AS (
  INSERT INTO platform_events (id, occurred_at, region, type, entities, attributes, idempotency_key, source_id,
                               batch_id, received_at)
  SELECT u.id, u.occurred_at, u.region, u.type, u.entities, u.attributes, u.key, $2, $3, $4
  FROM u JOIN k ON k.event_id = u.id
  RETURNING 1
)
SELECT (SELECT count(*) FROM e) AS inserted,
       (SELECT array_agg(u.n - 1 ORDER BY u.n) FROM u WHERE NOT EXISTS (SELECT FROM k WHERE k.event_id = u.id))
         AS retried
"""
"""One row: how many events were inserted, and the positions (from 0) of those that were not (their key was there:
retries, or a key repeated in the batch), NULL when none: not a row per event to decode."""
_EXISTING = """
SELECT k.region, k.idempotency_key, k.event_id, k.digest
FROM platform_event_keys k JOIN unnest($1::text[], $2::text[]) AS u(region, key)
  ON k.region = u.region AND k.idempotency_key = u.key
"""


def month_of(at: datetime) -> date:
    at = at.astimezone(UTC)
    return date(at.year, at.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{_PREFIX}{month.year:04d}_{month.month:02d}"


_known: dict[int, set[date]] = {}
"""Months whose partition this process has seen exist, per pool (by ``id``: a pool cannot be weakly referenced).
A stale entry (a month another process pruned, a new pool at an old pool's address) costs one failed insert:
``append`` then forgets the pool's months and makes them again."""


async def ensure_partitions(pool: asyncpg.Pool, months: Iterable[date]) -> list[str]:
    """Create the monthly partitions missing for ``months`` (each in a short transaction of its own, under an
    advisory lock so concurrent creators take turns); the names created."""
    known = _known.setdefault(id(pool), set())
    created: list[str] = []
    for month in sorted(set(months) - known):
        name = partition_name(month)
        sql = (
            f"CREATE TABLE IF NOT EXISTS {PARTITION_SCHEMA}.{name} PARTITION OF platform_events "
            f"FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') TO ('{next_month(month).isoformat()} 00:00:00+00')"
        )
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK)
            exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{PARTITION_SCHEMA}.{name}")
            if not exists:
                await conn.execute(sql)
                created.append(name)
        known.add(month)
    return created


async def partitions(conn: asyncpg.Connection) -> list[tuple[date, str]]:
    """The event log's monthly partitions, oldest first."""
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'public.platform_events'::regclass"
    )
    found = []
    for row in rows:
        name: str = row["relname"]
        if name.startswith(_PREFIX):
            year, month = name.removeprefix(_PREFIX).split("_")
            found.append((date(int(year), int(month), 1), name))
    return sorted(found)


async def prune(pool: asyncpg.Pool, before: datetime) -> list[str]:
    """Drop every monthly partition that ends on or before ``before`` (whole months only), with the idempotency
    keys of its events; the names dropped. A month that ``before`` falls inside is kept whole."""
    dropped: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK)
        for month, name in await partitions(conn):
            end = next_month(month)
            if datetime(end.year, end.month, 1, tzinfo=UTC) > before:
                continue
            await conn.execute(f"DROP TABLE {PARTITION_SCHEMA}.{name}")
            dropped.append(name)
        if dropped:
            last = next_month(max(month_of_name(n) for n in dropped))
            await conn.execute(
                "DELETE FROM platform_event_keys WHERE occurred_at < $1", datetime(last.year, last.month, 1, tzinfo=UTC)
            )
    known = _known.get(id(pool))
    if known is not None:
        known.difference_update(month_of_name(n) for n in dropped)
    return dropped


def month_of_name(name: str) -> date:
    year, month = name.removeprefix(_PREFIX).split("_")
    return date(int(year), int(month), 1)


class PostgresEventLog:
    """``domain.services.events.EventLog`` on the app's asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool, audit: AuditContext, *, backlog: str | None = None) -> None:
        """``backlog``: the source the rules' backlog row names (``submitEvents``, ``consumeEvents``), None for no
        row (no rule is active, or nothing runs the rules on this log's events). The row's id is ``batch_id``."""
        self._pool = pool
        self._audit = audit
        self.batch_id = uuid.uuid4()
        self.backlog = backlog
        self.backlogged = False
        """Whether a backlog row was written (the batch inserted events, and ``backlog`` was set)."""

    async def settle(self) -> None:
        """The rules ran on the batch's events: its backlog row goes (one statement; nothing when none was written)."""
        if self.backlogged:
            async with self._pool.acquire() as conn:
                await conn.execute("DELETE FROM rule_backlog WHERE id = $1", self.batch_id)
            self.backlogged = False

    async def append(self, events: Sequence[NewEvent], source_id: str, now: datetime) -> list[Accepted | None]:
        months = {month_of(e.event.occurred_at) for e in events}
        await ensure_partitions(self._pool, months)
        try:
            return await self._append(events, source_id, now)
        except asyncpg.CheckViolationError:  # "no partition for row": another process pruned a month we knew
            _known.pop(id(self._pool), None)
            await ensure_partitions(self._pool, months)
            return await self._append(events, source_id, now)

    async def _append(self, events: Sequence[NewEvent], source_id: str, now: datetime) -> list[Accepted | None]:
        # The batch is one JSON parameter (orjson writes ids and times; each event's checked attributes text goes in
        # as it is): PostgreSQL parses it in C, where eight arrays of a thousand values each cost this process an
        # abstract-base-class check or two per value in asyncpg's array encoder.
        fragment = orjson.Fragment
        rows = orjson.dumps(
            [
                {"id": e.id, "region": (x := e.event).region, "key": x.idempotency_key, "occurred_at": x.occurred_at,
                 "type": x.type, "entities": dict(x.entities), "attributes": fragment(e.attributes_json),
                 "digest": e.digest}
                for e in events
            ]
        ).decode()  # fmt: skip
        async with self._pool.acquire() as conn, conn.transaction():
            (row,) = await conn.fetch(_APPEND, rows, source_id, self.batch_id, now, self.backlog,
                                      self._audit.request_id)  # fmt: skip  # aggregates: one row
            self.backlogged = self.backlog is not None and row["inserted"] > 0
            results: list[Accepted | None] = [make_accepted(e.id, e.event, False) for e in events]
            retried: list[int] = row["retried"] or []
            if retried:
                regions = [events[i].event.region for i in retried]
                keys = [events[i].event.idempotency_key for i in retried]
                rows_there = await conn.fetch(_EXISTING, regions, keys)
                existing = {(r["region"], r["idempotency_key"]): (r["event_id"], r["digest"]) for r in rows_there}
                for i, region, key in zip(retried, regions, keys, strict=True):
                    e = events[i]
                    first_id, first_digest = existing[(region, key)]
                    results[i] = Accepted(first_id, e.event, duplicate=True) if first_digest == e.digest else None
            await self._write_audit(conn, events, frozenset(retried), results, now)
        return results

    async def _write_audit(
        self,
        conn: asyncpg.Connection,
        events: Sequence[NewEvent],
        retried: frozenset[int],
        results: Sequence[Accepted | None],
        now: datetime,
    ) -> None:
        """One record per region: the events inserted (by type), the duplicates and the refused. ``retried``: the
        positions of the events not inserted."""
        by_region: dict[str, dict[str, Any]] = {}
        for i, e in enumerate(events):
            region = e.event.region
            summary = by_region.get(region)
            if summary is None:
                summary = by_region[region] = {"accepted": 0, "duplicates": 0, "refused": 0, "types": {}}
            if i not in retried:
                summary["accepted"] += 1
                types = summary["types"]
                types[e.event.type] = types.get(e.event.type, 0) + 1
            elif results[i] is None:
                summary["refused"] += 1
            else:
                summary["duplicates"] += 1
        records = [
            AuditRecord(
                occurred_at=now,
                actor_kind=self._audit.actor_kind,
                actor_id=self._audit.actor_id,
                action=self._audit.operation,
                subject_kind="PlatformEventBatch",
                subject_id=str(self.batch_id),
                region=region,
                request_id=self._audit.request_id,
                after={"batch_id": str(self.batch_id), **summary},
            )
            for region, summary in sorted(by_region.items())
        ]
        sql, _ = insert_cte(audit_events, 1)
        await conn.fetch(sql, *audit_arrays(records))
