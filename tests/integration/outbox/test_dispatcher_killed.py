"""A dispatcher killed mid-batch loses nothing: `vigil dispatch` runs as a real process against a real receiver on
127.0.0.1, is SIGKILLed while it is sending, and a second one finishes the job. Every event arrives at least
once (the receiver deduplicates by `webhook-id`, as the README tells partners to) and every delivery ends
DELIVERED. Timing only decides *when* the kill lands; the assertions hold wherever it lands, and polling waits
generously."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from persistence.fast.sql import asyncpg_dsn
from tests.integration.conftest import GraphQLClient
from tests.integration.outbox.helpers import register
from tests.integration.outbox.receiver import Receiver, running_receiver
from tests.integration.tokens import issue_partner_token

EVENTS = 400
ROOT = Path(__file__).resolve().parents[3]


async def insert_events(db_url: str, n: int) -> set[str]:
    """Outbox rows as the units of work write them (the test is about carrying them, not making them)."""
    ids = [uuid.uuid4() for _ in range(n)]
    now = datetime.now(UTC)
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await conn.executemany(
            "INSERT INTO outbox_events (id, type, schema_version, region, subject_kind, subject_id, occurred_at, "
            "payload) VALUES ($1, 'case.opened', 1, 'US', 'CONTENT', $2, $3, $4::jsonb)",
            [(i, uuid.uuid4(), now, json.dumps({"caseId": str(i)})) for i in ids],
        )
    finally:
        await conn.close()
    return {str(i) for i in ids}


def start_dispatcher(db_url: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "VIGIL_DATABASE_URL": db_url,
        "VIGIL_ENV": "test",
        "VIGIL_WEBHOOK_TIMEOUT": "1",  # leases last 2 x 1 + 5 s: a dead dispatcher's leases expire soon
        "VIGIL_DISPATCH_INTERVAL": "0.1",
        "VIGIL_NATS_URL": "",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli.main", "dispatch"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(0.05)


async def states(db_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        rows = await conn.fetch("SELECT state, count(*) AS n FROM webhook_deliveries GROUP BY state")
    finally:
        await conn.close()
    return {r["state"]: r["n"] for r in rows}


async def test_a_dispatcher_killed_mid_batch_loses_nothing(gql: GraphQLClient, db_url: str) -> None:
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        receiver.slow_seconds = 0.1
        hook = await register(gql, partner, receiver.url("/slow-dedupe"), ["case.opened"])
        assert hook["__typename"] == "RegisterWebhookSuccess", hook
        expected = await insert_events(db_url, EVENTS)
        first = start_dispatcher(db_url)
        try:
            wait_for(lambda: len(received(receiver)) >= EVENTS // 4, timeout=120)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        at_kill = len(received(receiver))
        assert at_kill < EVENTS, "the first dispatcher finished before the kill: nothing was tested"
        second = start_dispatcher(db_url)
        try:
            wait_for(lambda: unique(receiver) >= expected, timeout=180)
            deadline = time.monotonic() + 60
            while await states(db_url) != {"DELIVERED": EVENTS} and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)  # the last outcomes are being recorded
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        ids = [r.headers["webhook-id"] for r in received(receiver)]
    assert set(ids) == expected  # every event, and nothing else
    assert len(ids) >= EVENTS  # at least once (a send cut by the kill may come twice)
    assert await states(db_url) == {"DELIVERED": EVENTS}


def received(receiver: Receiver) -> list:  # type: ignore[type-arg]
    return receiver.at("/slow-dedupe")


def unique(receiver: Receiver) -> set[str]:
    return {r.headers["webhook-id"] for r in received(receiver)}
