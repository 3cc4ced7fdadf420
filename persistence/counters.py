"""Sliding-window counters per entity (``domain.rules.ports.CounterStore``) in PostgreSQL, and the choice of store.

A counter is the number of distinct members recorded for (source, entity kind, entity id) in the window ending now;
each member is one row at its latest time (``counter_members``), so a retried event (same member) counts once and
``read`` is one statement for any number of keys. ``persistence.counters_redis`` keeps the same counters in Redis
sorted sets; ``counter_store`` picks Redis when ``VIGIL_REDIS_URL`` is set, PostgreSQL otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final

import asyncpg

from domain.rules.ports import CounterKey, CounterRecord, CounterStore
from persistence.fast.sql import json_column

RETENTION: Final = timedelta(days=31)
"""Members older than this are pruned: no window is longer."""
MEMBER_MAX: Final = 400

_RECORD = """
INSERT INTO counter_members (source, entity_kind, entity_id, member, at)
SELECT source, kind, id, member, at::timestamptz
FROM ROWS FROM (json_array_elements_text($1::json), json_array_elements_text($2::json),
                json_array_elements_text($3::json), json_array_elements_text($4::json),
                json_array_elements_text($5::json)) AS u(source, kind, id, member, at)
ON CONFLICT (source, entity_kind, entity_id, member) DO UPDATE SET at = GREATEST(counter_members.at, EXCLUDED.at)
"""
_READ = """
SELECT u.i, (SELECT count(*) FROM counter_members m
             WHERE m.source = u.source AND m.entity_kind = u.kind AND m.entity_id = u.id
               AND m.at > $5::timestamptz - make_interval(secs => u.w) AND m.at <= $5::timestamptz) AS n
FROM (SELECT source, kind, id, w::int AS w, i
      FROM ROWS FROM (json_array_elements_text($1::json), json_array_elements_text($2::json),
                      json_array_elements_text($3::json), json_array_elements_text($4::json))
           WITH ORDINALITY AS u(source, kind, id, w, i)) AS u
"""


def member_of(record: CounterRecord) -> str:
    """The member as stored: long values by their digest (distinctness is kept, length bounded)."""
    if len(record.member) <= MEMBER_MAX:
        return record.member
    return "sha256:" + hashlib.sha256(record.member.encode()).hexdigest()


def latest(records: Iterable[CounterRecord]) -> dict[tuple[str, str, str, str], datetime]:
    """One time per (source, kind, id, member): the latest recorded."""
    out: dict[tuple[str, str, str, str], datetime] = {}
    for r in records:
        key = (r.source, r.entity_kind, r.entity_id, member_of(r))
        if key not in out or out[key] < r.at:
            out[key] = r.at
    return out


class PostgresCounterStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, records: Iterable[CounterRecord]) -> None:
        rows = latest(records)
        if not rows:
            return
        keys = sorted(rows)  # a stable order: concurrent batches upsert shared rows without deadlocking
        async with self._pool.acquire() as conn:
            columns = [json_column([k[i] for k in keys]) for i in range(4)]  # see json_column
            await conn.execute(_RECORD, *columns, json_column([rows[k] for k in keys]))

    async def read(self, keys: Iterable[CounterKey], now: datetime) -> Mapping[CounterKey, int]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                _READ,
                json_column([k.source for k in wanted]),
                json_column([k.entity_kind for k in wanted]),
                json_column([k.entity_id for k in wanted]),
                json_column([k.window_seconds for k in wanted]),
                now,
            )
        return {wanted[row["i"] - 1]: row["n"] for row in rows}

    async def prune(self, now: datetime) -> int:
        """Delete members older than ``RETENTION``; how many."""
        async with self._pool.acquire() as conn:
            status: str = await conn.execute("DELETE FROM counter_members WHERE at <= $1", now - RETENTION)
        return int(status.split()[-1])


_redis_stores: dict[str, CounterStore] = {}


def counter_store(pool: asyncpg.Pool, redis_url: str | None) -> CounterStore:
    """Redis when ``redis_url`` is set (``VIGIL_REDIS_URL``; one client per URL and process), PostgreSQL otherwise."""
    if redis_url:
        from persistence.counters_redis import RedisCounterStore

        store = _redis_stores.get(redis_url)
        if store is None:
            store = _redis_stores[redis_url] = RedisCounterStore(redis_url)
        return store
    return PostgresCounterStore(pool)
