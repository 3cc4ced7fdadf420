"""Both counter stores (PostgreSQL; Redis on 127.0.0.1:6379 or VIGIL_TEST_REDIS_URL) hold the same sliding-window
semantics, answer many keys at once, and keep their counters across a restart (a new store instance reads them)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis

from domain.rules.ports import CounterKey, CounterRecord
from persistence.counters import PostgresCounterStore
from persistence.counters_redis import PREFIX, RedisCounterStore
from persistence.fast.sql import create_pool

REDIS_URL = os.environ.get("VIGIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = 3600


def _redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


Opener = Callable[[], Awaitable[Any]]


@pytest.fixture(params=["postgres", "redis"])
async def open_store(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[Opener]:
    """Opens a new store on the same data each call (a restart), closed at the end."""
    closers: list[Callable[[], Awaitable[None]]] = []
    if request.param == "redis":
        if not _redis_reachable():
            pytest.skip(f"no Redis at {REDIS_URL} (set VIGIL_TEST_REDIS_URL to use another)")

        async def opener() -> Any:
            store = RedisCounterStore(REDIS_URL)
            closers.append(store.close)
            return store
    else:

        async def opener() -> Any:
            pool = await create_pool(db_url, size=2)
            closers.append(pool.close)
            return PostgresCounterStore(pool)

    yield opener
    if request.param == "redis":  # what this test wrote (its own source names) goes
        client = aioredis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=f"{PREFIX}test-{RUN}-*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    for close in closers:
        await close()


RUN = uuid.uuid4().hex[:8]


def _source() -> str:
    return f"test-{RUN}-{uuid.uuid4().hex[:8]}"  # each test its own counters on a shared Redis


async def test_distinct_members_in_the_window(open_store: Opener) -> None:
    store = await open_store()
    src = _source()
    records = [
        CounterRecord(src, "account", "a-1", T0 - timedelta(minutes=90), "old"),
        CounterRecord(src, "account", "a-1", T0 - timedelta(minutes=30), "r-1"),
        CounterRecord(src, "account", "a-1", T0 - timedelta(minutes=20), "r-2"),
        CounterRecord(src, "account", "a-1", T0 - timedelta(minutes=10), "r-2"),  # the same member: once
        CounterRecord(src, "account", "a-1", T0, "r-3"),  # at the window's end: in
        CounterRecord(src, "account", "a-1", T0 + timedelta(seconds=1), "later"),  # after now: out
        CounterRecord(src, "account", "a-2", T0 - timedelta(minutes=5), "r-1"),
        CounterRecord(src, "content", "a-1", T0 - timedelta(minutes=5), "r-1"),
    ]
    await store.record(records[:4])
    await store.record(records[4:])
    one_hour = CounterKey(src, "account", "a-1", HOUR)
    two_hours = CounterKey(src, "account", "a-1", 2 * HOUR)
    other = CounterKey(src, "account", "a-2", HOUR)
    content = CounterKey(src, "content", "a-1", HOUR)
    never = CounterKey(src, "account", "nobody", HOUR)
    got = await store.read([one_hour, two_hours, other, content, never], T0)
    assert got == {one_hour: 3, two_hours: 4, other: 1, content: 1, never: 0}
    # The start of the window is exclusive: exactly an hour old is out.
    assert (await store.read([one_hour], T0 + timedelta(minutes=30)))[one_hour] == 3
    assert (await store.read([one_hour], T0 + timedelta(minutes=50)))[one_hour] == 2


async def test_a_member_recorded_again_moves_to_its_latest_time(open_store: Opener) -> None:
    store = await open_store()
    src = _source()
    key = CounterKey(src, "content", "c-1", HOUR)
    await store.record([CounterRecord(src, "content", "c-1", T0 - timedelta(minutes=50), "reporter-1")])
    await store.record([CounterRecord(src, "content", "c-1", T0 - timedelta(minutes=70), "reporter-1")])  # older
    assert (await store.read([key], T0))[key] == 1
    assert (await store.read([key], T0 + timedelta(minutes=11)))[key] == 0
    await store.record([CounterRecord(src, "content", "c-1", T0, "reporter-1")])
    assert (await store.read([key], T0 + timedelta(minutes=11)))[key] == 1


async def test_a_large_batch_on_few_keys_counts_every_member(open_store: Opener) -> None:
    """A brigade: 1,500 members on one entity in one batch (Redis: written in slices of 500 inside its script),
    beside many entities of one member each, read back in one call."""
    store = await open_store()
    src = _source()
    brigade = [CounterRecord(src, "content", "hot", T0 - timedelta(seconds=i), f"m-{i}") for i in range(1500)]
    singles = [CounterRecord(src, "account", f"a-{i}", T0 - timedelta(minutes=i % 90), "m") for i in range(300)]
    await store.record(brigade + singles)
    hot_minute = CounterKey(src, "content", "hot", 60)
    hot_hour = CounterKey(src, "content", "hot", HOUR)
    accounts = [CounterKey(src, "account", f"a-{i}", HOUR) for i in range(300)]
    got = await store.read([hot_minute, hot_hour, *accounts], T0)
    assert got[hot_minute] == 60  # seconds 0..59 ago: the one a minute old is out (exclusive start)
    assert got[hot_hour] == 1500
    assert [got[k] for k in accounts] == [1 if i % 90 < 60 else 0 for i in range(300)]


async def test_counters_survive_a_restart(open_store: Opener) -> None:
    src = _source()
    first = await open_store()
    await first.record([CounterRecord(src, "account", "a-9", T0 - timedelta(minutes=m), f"e-{m}") for m in range(5)])
    key = CounterKey(src, "account", "a-9", HOUR)
    restarted = await open_store()
    assert (await restarted.read([key], T0))[key] == 5


def test_redis_keys_are_namespaced() -> None:
    assert PREFIX == "vigil:counter:"
