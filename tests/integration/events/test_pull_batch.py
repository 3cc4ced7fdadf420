"""``pull_batch`` (a pull subscription's batch taken in bulk from nats-py's queue) against nats-py's own ``fetch``:
the same messages, in the same batches, on the same stream content, whether they were waiting, arrive while it
waits, or never come; and ``fetch`` is used where nats-py's internals are not there."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig

from api.services.events_consumer import pull_batch
from tests.integration.events.test_consume import NATS_URL, _reachable

pytestmark = pytest.mark.skipif(
    not _reachable(NATS_URL), reason=f"no NATS server at {NATS_URL} (set VIGIL_TEST_NATS_URL to use another)"
)


@pytest.fixture
async def js() -> AsyncIterator[Any]:
    nc = await nats.connect(NATS_URL)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


async def _stream(js: Any, count: int) -> tuple[Any, str, str]:
    name = f"TEST_PULL_{uuid.uuid4().hex[:10].upper()}"
    subject = f"test.{name.lower()}"
    await js.add_stream(name=name, subjects=[f"{subject}.>"])
    for i in range(count):
        await js.publish(f"{subject}.e", f"m-{i}".encode())
    config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30)
    sub = await js.pull_subscribe(f"{subject}.>", durable="d", stream=name, config=config)
    return sub, name, subject


async def _fetch(sub: Any, batch: int, wait: float) -> list[Any]:
    try:
        return list(await sub.fetch(batch, timeout=wait))
    except (TimeoutError, NatsTimeout):
        return []


async def _drain(js: Any, take: Any, count: int, batch: int) -> list[list[str]]:
    sub, name, _ = await _stream(js, count)
    try:
        batches: list[list[str]] = []
        while True:
            messages = await take(sub, batch, 0.5)
            if not messages:
                return batches
            batches.append([m.data.decode() for m in messages])
            for m in messages:
                await m.ack()
    finally:
        await js.delete_stream(name)


async def test_the_same_batches_as_fetch(js: Any) -> None:
    for count, batch in ((1, 10), (25, 10), (1_200, 500)):
        pulled = await _drain(js, pull_batch, count, batch)
        fetched = await _drain(js, _fetch, count, batch)
        assert pulled == fetched
        assert [m for b in pulled for m in b] == [f"m-{i}" for i in range(count)]


async def test_messages_published_while_it_waits_are_taken(js: Any) -> None:
    sub, name, subject = await _stream(js, 0)
    try:

        async def later() -> None:
            await asyncio.sleep(0.2)
            for i in range(3):
                await js.publish(f"{subject}.e", f"late-{i}".encode())

        task = asyncio.create_task(later())
        started = time.monotonic()
        first = await pull_batch(sub, 3, 5.0)
        waited = time.monotonic() - started
        await task
        assert first  # the first that came, without waiting out the deadline (fetch too ends its request there)
        assert waited < 4.0
        taken = list(first)
        while len(taken) < 3:
            more = await pull_batch(sub, 3, 1.0)
            assert more
            taken += more
        assert [m.data for m in taken] == [b"late-0", b"late-1", b"late-2"]
        for m in taken:
            await m.ack()
        assert await pull_batch(sub, 3, 0.3) == []  # nothing more: empty when the time is up
    finally:
        await js.delete_stream(name)


async def test_without_nats_py_internals_fetch_is_used() -> None:
    class Other:
        async def fetch(self, batch: int, timeout: float) -> list[Any]:  # noqa: ASYNC109 (fetch's signature)
            return []

    assert await pull_batch(Other(), 10, 0.1) is None
