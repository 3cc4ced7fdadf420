"""Request rate limits per principal: each API token, each staff member, each anonymous client IP.

A generic cell rate algorithm (GCRA, a token bucket kept as one timestamp per key): `rate` requests a second on
average, bursts of up to `burst`. A refused request gets 429 `RATE_LIMITED` with `Retry-After`. The state lives in
this process by default; with `VIGIL_REDIS_URL` it is shared by every app server through Redis (one atomic
script per request, Redis's clock). If Redis cannot be reached the limiter says so once (WARNING) and limits in
memory until Redis answers again, rather than refusing all traffic.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from api.settings import Settings, parse_rate
from authz.principal import Principal, PrincipalKind

log = logging.getLogger("vigil.ratelimit")


@dataclass(frozen=True, slots=True)
class Limit:
    rate: float
    burst: int

    @property
    def interval(self) -> float:
        return 1.0 / self.rate


class Store(Protocol):
    async def acquire(self, key: str, limit: Limit) -> float:
        """0 when allowed, else the seconds until one request would be."""


class MemoryStore:
    """GCRA in this process. Keys whose bucket is full again are dropped when the table grows."""

    MAX_KEYS = 100_000

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self.tat: dict[str, float] = {}

    async def acquire(self, key: str, limit: Limit) -> float:
        now = float(self.clock())
        tat = max(self.tat.get(key, now), now)
        allowed_at = tat - (limit.burst - 1) * limit.interval  # the burst's last slot (exact for a burst of 1)
        if allowed_at > now:
            return allowed_at - now
        if len(self.tat) >= self.MAX_KEYS:
            self.tat = {k: v for k, v in self.tat.items() if v > now}
        self.tat[key] = tat + limit.interval
        return 0.0


_GCRA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat - (burst - 1) * interval
if allowed_at > now then return string.format('%.6f', allowed_at - now) end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return '0'
"""


class RedisStore:
    """GCRA in Redis, shared by every app server. Falls back to memory (logged once) while Redis is unreachable."""

    def __init__(self, url: str, prefix: str = "vigil:rl:") -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self.script = self.redis.register_script(_GCRA)
        self.prefix = prefix
        self.fallback = MemoryStore()
        self.failing = False

    async def acquire(self, key: str, limit: Limit) -> float:
        from redis.exceptions import RedisError

        try:
            wait = float(await self.script(keys=[self.prefix + key], args=[repr(limit.interval), limit.burst]))
        except (RedisError, OSError) as exc:
            if not self.failing:
                self.failing = True
                log.warning("redis unreachable: rate limits kept in memory meanwhile", extra={"reason": str(exc)})
            return await self.fallback.acquire(key, limit)
        if self.failing:
            self.failing = False
            log.info("redis reachable again: rate limits shared again")
        return wait

    async def close(self) -> None:
        await self.redis.aclose()


@dataclass(frozen=True, slots=True)
class Refusal:
    retry_after: int
    limit: Limit


class RateLimiter:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.enabled = settings.rate_limits
        self.token = Limit(*parse_rate(settings.rate_limit_token))
        self.staff = Limit(*parse_rate(settings.rate_limit_staff))
        self.anonymous = Limit(*parse_rate(settings.rate_limit_anonymous))
        self.overrides = {key: Limit(*parse_rate(rate)) for key, rate in settings.rate_limit_overrides.items()}
        if store is not None:
            self.store: Store = store
        elif settings.redis_url:
            self.store = RedisStore(settings.redis_url)
        else:
            self.store = MemoryStore()

    def key_and_limit(self, principal: Principal, client_ip: str) -> tuple[str, Limit]:
        if principal.token_id is not None and principal.kind is not PrincipalKind.STAFF:
            key = f"token:{principal.token_id}"
            limit = self.overrides.get(principal.token_id) or self.overrides.get(principal.id) or self.token
            return key, limit
        if principal.is_authenticated:
            key = f"principal:{principal.id}"
            limit = self.overrides.get(principal.token_id or "") or self.overrides.get(principal.id) or self.staff
            return key, limit
        return f"ip:{client_ip}", self.anonymous

    async def check(self, principal: Principal, client_ip: str) -> Refusal | None:
        if not self.enabled:
            return None
        key, limit = self.key_and_limit(principal, client_ip)
        wait = await self.store.acquire(key, limit)
        if wait <= 0:
            return None
        return Refusal(retry_after=max(1, math.ceil(wait)), limit=limit)

    async def close(self) -> None:
        if isinstance(self.store, RedisStore):
            await self.store.close()
