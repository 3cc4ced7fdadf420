"""The counters of ``persistence.counters`` in Redis: one sorted set per (source, entity kind, entity id), members
scored by their latest time (``ZADD GT``), a window read as ``ZCOUNT``. A batch's writes are one script call and
its reads another (one round trip each, the per-key commands run inside Redis: a pipeline packed and parsed
three commands per key in Python, most of what counters in Redis cost the intake). Each write trims what no
window can reach and renews the key's expiry, so idle entities cost nothing. Redis persistence (RDB/AOF) is what
makes counters survive a restart of Redis; restarting Vigil loses nothing. The scripts name every key they touch
(``KEYS``), so they run on any single Redis server (not a Cluster: a batch's keys span slots)."""

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


_RECORD = """
local keep = ARGV[1]
local i = 2
for k = 1, #KEYS do
  local n, cutoff = tonumber(ARGV[i]), ARGV[i + 1]
  i = i + 2
  local first = i
  while i < first + 2 * n do  -- ZADD GT score member ..., at most 500 pairs a call (Lua's unpack is bounded)
    local last = math.min(i + 999, first + 2 * n - 1)
    redis.call('ZADD', KEYS[k], 'GT', unpack(ARGV, i, last))
    i = last + 1
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', cutoff)
  redis.call('EXPIRE', KEYS[k], keep)
end
return #KEYS
"""
"""KEYS: the counters written. ARGV: the seconds a counter is kept, then per key the number of its members, the
score below which nothing can be read any more, and its (score, member) pairs."""
_READ = """
local counts = {}
for k = 1, #KEYS do
  counts[k] = redis.call('ZCOUNT', KEYS[k], ARGV[2 * k - 1], ARGV[2 * k])
end
return counts
"""
"""KEYS: the counters read (a key twice for two windows). ARGV: per key, the window's exclusive start and end."""


class RedisCounterStore:
    def __init__(self, url: str, *, client: Any = None) -> None:
        self._redis: Any = client or aioredis.from_url(url)
        self._record = self._redis.register_script(_RECORD)
        self._read = self._redis.register_script(_READ)

    async def close(self) -> None:
        await self._redis.aclose()

    async def record(self, records: Iterable[CounterRecord]) -> None:
        rows = latest(records)
        if not rows:
            return
        by_key: dict[str, dict[str, float]] = {}
        for (source, kind, entity_id, member), at in rows.items():
            by_key.setdefault(redis_key(source, kind, entity_id), {})[member] = at.timestamp()
        keep = int(RETENTION.total_seconds())
        args: list[str | int] = [keep]
        for members in by_key.values():
            args += (len(members), repr(max(members.values()) - keep))
            for member, score in members.items():
                args += (repr(score), member)
        await self._record(keys=list(by_key), args=args)

    async def read(self, keys: Iterable[CounterKey], now: datetime) -> Mapping[CounterKey, int]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        end = now.timestamp()
        args: list[str] = []
        for k in wanted:
            args += (f"({end - k.window_seconds}", repr(end))
        counts = await self._read(keys=[redis_key(k.source, k.entity_kind, k.entity_id) for k in wanted], args=args)
        return {k: int(n) for k, n in zip(wanted, counts, strict=True)}
