"""``acknowledge`` (a batch's acknowledgements written as one command) against the real NATS server: what it
acknowledges or terminates is never redelivered, what it was not given is; a message acknowledged before is
acknowledged through nats-py one by one, whose error is raised once the others are acknowledged."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.errors import MsgAlreadyAckdError
from nats.js.api import AckPolicy, ConsumerConfig

from api.services.events_consumer import acknowledge, pull_batch
from tests.integration.events.test_consume import NATS_URL, _reachable

pytestmark = pytest.mark.skipif(
    not _reachable(NATS_URL), reason=f"no NATS server at {NATS_URL} (set VIGIL_TEST_NATS_URL to use another)"
)
ACK_WAIT = 1.0


@pytest.fixture
async def nc() -> AsyncIterator[Any]:
    connection = await nats.connect(NATS_URL)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def sub(nc: Any) -> AsyncIterator[Any]:
    js = nc.jetstream()
    name = f"TEST_ACKS_{uuid.uuid4().hex[:10].upper()}"
    subject = f"test.{name.lower()}"
    await js.add_stream(name=name, subjects=[f"{subject}.>"])
    for i in range(6):
        await js.publish(f"{subject}.e", f"m-{i}".encode())
    config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT, max_deliver=-1)
    subscription = await js.pull_subscribe(f"{subject}.>", durable="d", stream=name, config=config)
    try:
        yield subscription
    finally:
        await js.delete_stream(name)


async def _redelivered(sub: Any) -> list[str]:
    await asyncio.sleep(ACK_WAIT + 0.5)
    return sorted(m.data.decode() for m in await pull_batch(sub, 10, 0.5) or [])


async def test_what_it_acknowledges_or_terminates_is_not_redelivered(nc: Any, sub: Any) -> None:
    messages = await pull_batch(sub, 10, 1.0)
    assert messages is not None
    assert len(messages) == 6
    sent = nc.stats["out_msgs"]
    await acknowledge(nc, [(m, i % 2 == 0) for i, m in enumerate(messages[:4])])  # m-4, m-5: left pending
    assert nc.stats["out_msgs"] == sent + 4
    assert [m._ackd for m in messages] == [True] * 4 + [False] * 2
    assert await _redelivered(sub) == ["m-4", "m-5"]
    info = await sub.consumer_info()
    assert info.num_ack_pending == 2  # the two redelivered, not yet acknowledged


async def test_a_message_acknowledged_before_is_an_error_after_the_others(nc: Any, sub: Any) -> None:
    messages = await pull_batch(sub, 10, 1.0)
    assert messages is not None
    assert len(messages) == 6
    await messages[2].ack()
    with pytest.raises(MsgAlreadyAckdError):
        await acknowledge(nc, [(m, True) for m in messages])
    assert all(m._ackd for m in messages)
    assert await _redelivered(sub) == []
