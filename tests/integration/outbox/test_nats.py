"""NATS JetStream against the real server on 127.0.0.1:4222 (or VIGIL_TEST_NATS_URL): every event published on
its region's subject, and published again (a dispatcher that died before recording) stored once. Each test uses
its own stream and subject prefix, deleted afterwards, so runs on a shared server do not meet."""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlsplit

import asyncpg
import nats
import pytest

from api.services.nats_publisher import NatsPublisher
from persistence.fast.sql import asyncpg_dsn
from tests.integration.conftest import GraphQLClient
from tests.integration.outbox.helpers import decided_case, dispatcher
from tests.integration.tokens import issue_staff_token

NATS_URL = os.environ.get("VIGIL_TEST_NATS_URL", "nats://127.0.0.1:4222")


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


async def _outbox(db_url: str) -> list[tuple[str, str, str]]:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        rows = await conn.fetch("SELECT id::text, region, type FROM outbox_events ORDER BY seq")
    finally:
        await conn.close()
    return [(r["id"], r["region"], r["type"]) for r in rows]


async def _forget_publications(db_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await conn.execute("UPDATE outbox_events SET published_at = NULL")
    finally:
        await conn.close()


async def test_events_are_published_per_region_and_deduplicated(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await decided_case(gql, admin, "us-case", region="US")
    await decided_case(gql, admin, "eu-case", region="EU")
    events = await _outbox(db_url)
    tag = uuid.uuid4().hex[:12]
    stream, prefix = f"VIGILTEST_{tag}", f"vigiltest{tag}"
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    try:
        publisher = NatsPublisher(NATS_URL, stream=stream, prefix=prefix)
        async with dispatcher(db_url, publisher=publisher) as d:
            first = await d.run_once()
            assert first.published == len(events)
            assert (await d.run_once()).published == 0  # nothing twice
            await _forget_publications(db_url)  # as if a dispatcher died between publishing and recording it
            assert (await d.run_once()).published == len(events)
            await d.close()
        info = await js.stream_info(stream)
        assert info.state.messages == len(events)  # the second copies were dropped by Nats-Msg-Id

        by_subject: dict[str, list[str]] = {}
        sub = await js.pull_subscribe(f"{prefix}.>", durable=None, stream=stream)
        for message in await sub.fetch(len(events), timeout=5):
            by_subject.setdefault(message.subject, []).append(message.headers["Nats-Msg-Id"])
            await message.ack()
        expected: dict[str, list[str]] = {}
        for event_id, region, type_ in events:
            expected.setdefault(f"{prefix}.{region}.{type_}", []).append(event_id)
        assert {k: sorted(v) for k, v in by_subject.items()} == {k: sorted(v) for k, v in expected.items()}
        assert any(s.startswith(f"{prefix}.EU.") for s in by_subject)
        assert any(s.startswith(f"{prefix}.US.") for s in by_subject)
    finally:
        await js.delete_stream(stream)
        await nc.close()
