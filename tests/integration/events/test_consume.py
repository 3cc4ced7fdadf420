"""`vigil consume` against the real NATS server on 127.0.0.1:4222 (or VIGIL_TEST_NATS_URL) and PostgreSQL: two
consumers sharing one durable store every event once (re-sent keys deduplicated, bad messages terminated), and a
batch whose write failed is redelivered and stored once. Each test has its own stream, deleted afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import nats
import pytest

from api.cli.events import rule_runner
from api.services.events_consumer import EventConsumer
from domain.region import Region
from persistence.db import create_engine, create_session_factory
from persistence.events import PostgresEventLog
from persistence.fast.sql import Pool, create_pool
from persistence.rule_runtime import cache_for
from persistence.uow import AuditContext
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import fetch
from tests.integration.lifecycle import flows
from tests.integration.rules.helpers import CREATE, TRANSITION, mutate, rule_text
from tests.integration.tokens import issue_staff_token

NATS_URL = os.environ.get("VIGIL_TEST_NATS_URL", "nats://127.0.0.1:4222")
AUDIT = AuditContext(actor_kind="SYSTEM", actor_id="consumer:test", operation="consumeEvents")


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not _reachable(NATS_URL), reason=f"no NATS server at {NATS_URL} (set VIGIL_TEST_NATS_URL to use another)"
)


@pytest.fixture
async def stream() -> AsyncIterator[tuple[str, str]]:
    name = f"TEST_EVENTS_{uuid.uuid4().hex[:10].upper()}"
    subject = f"test.{name.lower()}"
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await js.add_stream(name=name, subjects=[f"{subject}.>"])
    try:
        yield name, subject
    finally:
        await js.delete_stream(name)
        await nc.close()


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[Pool]:
    created = await create_pool(db_url, size=4)
    try:
        yield created
    finally:
        await created.close()


def _message(key: str, region: str = "US") -> bytes:
    return json.dumps(
        {
            "type": "account.login",
            "region": region,
            "entities": {"account": f"u-{key}"},
            "attributes": {"ip": "203.0.113.7", "success": True},
            "occurredAt": datetime(2026, 12, 1, 9, 0, tzinfo=UTC).isoformat(),
            "idempotencyKey": key,
        }
    ).encode()


async def _publish(subject: str, bodies: list[bytes]) -> None:
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    for body in bodies:
        await js.publish(f"{subject}.US", body)
    await nc.close()


def _consumer(pool: Pool, name: str, subject: str, **kwargs: Any) -> EventConsumer:
    return EventConsumer(
        NATS_URL,
        lambda: PostgresEventLog(pool, AUDIT),
        stream=name,
        subject=f"{subject}.>",
        durable="workers",
        batch=7,
        ack_wait=3.0,  # a message fetched by a pull request that timed out comes back after this
        **kwargs,
    )


def _handled(*consumers: EventConsumer) -> int:
    return sum(c.stats.stored + c.stats.duplicates + c.stats.refused for c in consumers)


async def _drain(*consumers: EventConsumer, messages: int) -> None:
    """Until the consumers have handled ``messages``, all of them fetching at once as separate machines would (a
    message a timed-out pull request caught comes back after the ack wait: no fixed number of rounds)."""
    async with asyncio.timeout(120):
        while _handled(*consumers) < messages:
            await asyncio.gather(*(c.run_once(wait=0.5) for c in consumers))


async def test_consumers_share_the_work_and_store_each_key_once(
    stream: tuple[str, str], pool: Pool, db_url: str
) -> None:
    name, subject = stream
    bodies = [_message(f"k{i}") for i in range(40)]
    bodies += [_message(f"k{i}") for i in range(0, 40, 4)]  # re-sent: ten duplicates
    bodies += [b"not json", _message("wrong-region", region="MARS")]
    await _publish(subject, bodies)
    first, second = _consumer(pool, name, subject), _consumer(pool, name, subject)
    try:
        await _drain(first, second, messages=len(bodies))
    finally:
        await first.close()
        await second.close()
    stored = first.stats.stored + second.stats.stored
    assert stored == 40
    assert first.stats.duplicates + second.stats.duplicates == 10
    assert first.stats.refused + second.stats.refused == 2
    keys = [r["idempotency_key"] for r in await fetch(db_url, "SELECT idempotency_key FROM platform_events")]
    assert sorted(keys) == sorted(f"k{i}" for i in range(40))
    audits = await fetch(db_url, "SELECT actor_id FROM audit_events WHERE action = 'consumeEvents'")
    assert {a["actor_id"] for a in audits} == {"consumer:test"}

    nc = await nats.connect(NATS_URL)
    info = await nc.jetstream().consumer_info(name, "workers")
    await nc.close()
    assert info.num_pending == 0
    assert info.num_ack_pending == 0  # refused messages are terminated, not left to redeliver


class _FailingOnce(PostgresEventLog):
    failures = 1

    async def append(self, *args: Any, **kwargs: Any) -> Any:
        if _FailingOnce.failures:
            _FailingOnce.failures -= 1
            raise ConnectionError("database went away")
        return await super().append(*args, **kwargs)


async def test_a_batch_that_failed_is_redelivered_and_stored_once(
    stream: tuple[str, str], pool: Pool, db_url: str
) -> None:
    name, subject = stream
    await _publish(subject, [_message(f"r{i}") for i in range(5)])
    consumer = EventConsumer(
        NATS_URL,
        lambda: _FailingOnce(pool, AUDIT),
        stream=name,
        subject=f"{subject}.>",
        durable="workers",
        regions=[Region.US],
        ack_wait=3.0,
    )
    try:
        assert await consumer.run_once(wait=2) == 5  # fetched, failed, nak'd
        assert consumer.stats.stored == 0
        await _drain(consumer, messages=5)
    finally:
        await consumer.close()
    assert consumer.stats.stored == 5
    rows = await fetch(db_url, "SELECT count(*) AS n FROM platform_events")
    assert rows[0]["n"] == 5


async def test_consumed_events_meet_the_rules(
    stream: tuple[str, str], pool: Pool, db_url: str, gql: GraphQLClient
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    created = await mutate(gql, admin, CREATE, {"region": "US", "source": rule_text(threshold=2)})
    await mutate(gql, admin, TRANSITION, {"ruleId": created["rule"]["id"], "state": "SHADOW"})
    name, subject = stream
    same_account = [json.loads(_message(f"s{i}")) for i in range(3)]
    for minute, body in enumerate(same_account):  # a minute apart: each sees the counter as of its own time
        body["entities"] = {"account": "u-shared"}
        body["occurredAt"] = datetime(2026, 12, 1, 9, minute, tzinfo=UTC).isoformat()
    await _publish(subject, [json.dumps(b).encode() for b in same_account])
    engine = create_engine(db_url, pool_size=1)
    consumer = _consumer(pool, name, subject, after_batch=rule_runner(pool, create_session_factory(engine), None))
    try:
        await _drain(consumer, messages=3)
    finally:
        await consumer.close()
        await engine.dispose()
        cache_for(pool).close()
    hits = await fetch(db_url, "SELECT mode, subject_id FROM rule_hits")
    assert [(h["mode"], h["subject_id"]) for h in hits] == [("SHADOW", "u-shared"), ("SHADOW", "u-shared")]
