"""The counters of ``persistence.counters`` in Redis: one sorted set per (source, entity kind, entity id), members
scored by their latest time (``ZADD GT``), a window read as ``ZCOUNT``; a pipeline per call (one round trip).
Each write trims what no window can reach and renews the key's expiry, so idle entities cost nothing. Redis
persistence (RDB/AOF) is what makes counters survive a restart of Redis; restarting Vigil loses nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from domain.rules.ports import CounterKey, CounterRecord
from persistence.counters import RETENTION, latest

PREFIX = "vigil:counter:"


def redis_key(source: str, entity_kind: str, entity_id: str) -> str:
    return f"{PREFIX}{source}:{entity_kind}:{entity_id}"


class RedisCounterStore:
    def __init__(self, url: str, *, client: Any = None) -> None:
        self._redis: Any = client or aioredis.from_url(url)

    async def close(self) -> None:
        await self._redis.aclose()

    async def record(self, records: Iterable[CounterRecord]) -> None:
        rows = latest(records)
        if not rows:
            return
        by_key: dict[str, dict[str, float]] = {}
        newest: dict[str, float] = {}
        for (source, kind, entity_id, member), at in rows.items():
            key = redis_key(source, kind, entity_id)
            by_key.setdefault(key, {})[member] = at.timestamp()
            newest[key] = max(newest.get(key, 0.0), at.timestamp())
        keep = int(RETENTION.total_seconds())
        pipe = self._redis.pipeline(transaction=False)
        for key, members in by_key.items():
            pipe.zadd(key, members, gt=True)
            pipe.zremrangebyscore(key, "-inf", newest[key] - keep)
            pipe.expire(key, keep)
        await pipe.execute()

    async def read(self, keys: Iterable[CounterKey], now: datetime) -> Mapping[CounterKey, int]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        end = now.timestamp()
        pipe = self._redis.pipeline(transaction=False)
        for k in wanted:
            pipe.zcount(redis_key(k.source, k.entity_kind, k.entity_id), f"({end - k.window_seconds}", end)
        counts = await pipe.execute()
        return {k: int(n) for k, n in zip(wanted, counts, strict=True)}
