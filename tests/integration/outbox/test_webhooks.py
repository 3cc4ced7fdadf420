"""Webhooks end to end against a real HTTP receiver on 127.0.0.1: registration, Standard Webhooks signatures,
rotation with two signatures, retries and the dead letter, manual redelivery, per-endpoint history, ownership
and regions. The dispatcher's one pass (``run_once``) is driven directly: no background task, no sleeps."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from datetime import UTC, datetime, timedelta

import asyncpg

from domain.clock import FixedClock
from domain.outbox.webhook import MAX_ATTEMPTS
from persistence.fast.sql import asyncpg_dsn
from tests.integration.conftest import GraphQLClient
from tests.integration.outbox.helpers import (
    DELIVERIES,
    DISABLE,
    REDELIVER,
    ROTATE,
    decided_case,
    dispatcher,
    register,
)
from tests.integration.outbox.receiver import Received, running_receiver
from tests.integration.tokens import issue_partner_token, issue_staff_token

ALL_DECISION_EVENTS = ["case.opened", "decision.made", "enforcement.applied", "case.state_changed"]


def signed_by(secret: str, received: Received) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    h = received.headers
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + received.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return expected in h["webhook-signature"].split(" ")


async def test_a_partner_receives_each_wanted_event_signed_once(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        hook = await register(gql, partner, receiver.url("/ok"), ["decision.made", "enforcement.applied"])
        assert hook["__typename"] == "RegisterWebhookSuccess", hook
        assert hook["secret"].startswith("whsec_")
        await decided_case(gql, admin, "first")
        await decided_case(gql, admin, "elsewhere", region="EU")  # not a region it asked for
        async with dispatcher(db_url) as d:
            result = await d.run_once()
            again = await d.run_once()
        got = receiver.at("/ok")
    wanted = await count_events(db_url, "US", ["decision.made", "enforcement.applied"])
    assert wanted >= 2  # the decision and its removal (the strike ladder may add an action)
    assert result.outcomes == {"delivered": wanted}
    assert again.outcomes == {}  # nothing sent twice
    assert len(got) == len({r.headers["webhook-id"] for r in got}) == wanted
    assert {json.loads(r.body)["type"] for r in got} == {"decision.made", "enforcement.applied"}
    for r in got:
        body = json.loads(r.body)
        assert r.headers["webhook-id"] == body["id"]
        assert abs(int(r.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 300
        assert signed_by(hook["secret"], r)
        assert body["region"] == "US"
        assert body["version"] == 1
    history = await gql(DELIVERIES, token=partner)
    deliveries = history["data"]["webhooks"]["nodes"][0]["deliveries"]["nodes"]
    assert {(d["state"], d["attempts"], d["lastStatus"]) for d in deliveries} == {("DELIVERED", 1, 204)}
    assert {d["event"]["type"] for d in deliveries} == {"decision.made", "enforcement.applied"}
    assert len(deliveries) == wanted


async def count_events(db_url: str, region: str, types: list[str]) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM outbox_events WHERE region = $1 AND type = ANY($2)", region, types
        )
    finally:
        await conn.close()
    return count


async def test_rotation_signs_with_both_secrets_during_the_overlap(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        hook = await register(gql, partner, receiver.url("/ok"), ["decision.made"])
        rotated = await gql(ROTATE, {"input": {"webhookId": hook["webhook"]["id"], "overlapHours": 1}}, token=partner)
        new = rotated["data"]["rotateWebhookSecret"]
        assert new["__typename"] == "RotateWebhookSecretSuccess", new
        assert new["secret"] != hook["secret"]
        assert new["webhook"]["previousSecretExpiresAt"] is not None
        await decided_case(gql, admin, "rotated")
        async with dispatcher(db_url) as d:
            await d.run_once()
        async with dispatcher(db_url, clock=FixedClock(datetime.now(UTC) + timedelta(hours=2))) as d:
            await redeliver_all(gql, partner, d)
        first, later = receiver.at("/ok")
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    assert signed_by(new["secret"], first)
    assert signed_by(hook["secret"], first)
    assert first.headers["webhook-id"] == later.headers["webhook-id"]  # the same message, redelivered
    assert later.headers["webhook-signature"].count("v1,") == 1  # the overlap is over
    assert signed_by(new["secret"], later)
    assert not signed_by(hook["secret"], later)


async def redeliver_all(gql: GraphQLClient, token: str, d: object) -> None:
    history = await gql(DELIVERIES, token=token)
    for hook in history["data"]["webhooks"]["nodes"]:
        for delivery in hook["deliveries"]["nodes"]:
            body = await gql(REDELIVER, {"input": {"deliveryId": delivery["id"]}}, token=token)
            assert body["data"]["redeliverWebhook"]["__typename"] == "RedeliverWebhookSuccess", body
    await d.run_once()  # type: ignore[attr-defined]


async def test_a_failing_endpoint_is_retried_with_backoff_then_dead_lettered_then_redelivered(
    gql: GraphQLClient, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        await register(gql, partner, receiver.url("/fail"), ["decision.made"])
        healthy = await register(gql, partner, receiver.url("/ok"), ["decision.made"])
        await decided_case(gql, admin, "failing")
        now = datetime.now(UTC)
        waits = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            async with dispatcher(db_url, clock=FixedClock(now), jitter=lambda: 1.0) as d:
                result = await d.run_once()
            expected = {"dead": 1} if attempt == MAX_ATTEMPTS else {"failed": 1}
            if attempt == 1:
                expected = expected | {"delivered": 1}  # the healthy endpoint, untouched by the failing one
            assert result.outcomes == expected, (attempt, result)
            async with dispatcher(db_url, clock=FixedClock(now)) as d:
                assert (await d.run_once()).outcomes == {}  # not due again before its backoff
            next_at = await next_attempt(db_url)
            waits.append(next_at - now)
            now = next_at
        assert len(receiver.at("/fail")) == MAX_ATTEMPTS
        assert len(receiver.at("/ok")) == 1
        history = await gql(DELIVERIES, token=partner)
        states = {
            h["id"]: [(d["state"], d["attempts"], d["lastError"]) for d in h["deliveries"]["nodes"]]
            for h in history["data"]["webhooks"]["nodes"]
        }
        assert states[healthy["webhook"]["id"]] == [("DELIVERED", 1, None)]
        dead = next(v for k, v in states.items() if k != healthy["webhook"]["id"])
        assert dead == [("DEAD", MAX_ATTEMPTS, "HTTP 500")]
        async with dispatcher(db_url, clock=FixedClock(now)) as d:
            await redeliver_all(gql, partner, d)
        assert len(receiver.at("/fail")) == MAX_ATTEMPTS + 1
    retried = waits[:-1]
    assert all(b > a for a, b in itertools.pairwise(retried) if b < timedelta(hours=12))
    assert sum(retried, timedelta()) > timedelta(days=1)


async def next_attempt(db_url: str) -> datetime:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        value: datetime = await conn.fetchval(
            "SELECT d.next_attempt_at FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id "
            "WHERE w.url LIKE '%/fail'"
        )
    finally:
        await conn.close()
    return value


async def test_a_slow_endpoint_does_not_hold_up_another(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        receiver.slow_seconds = 3.0
        await register(gql, partner, receiver.url("/slow"), ["decision.made"])
        await register(gql, partner, receiver.url("/ok"), ["decision.made"])
        await decided_case(gql, admin, "slow")
        async with dispatcher(db_url, timeout=0.5) as d:
            result = await d.run_once()
        assert result.outcomes == {"delivered": 1, "failed": 1}
        assert len(receiver.at("/ok")) == 1
    history = await gql(DELIVERIES, token=partner)
    errors = {d["lastError"] for h in history["data"]["webhooks"]["nodes"] for d in h["deliveries"]["nodes"]}
    assert errors == {None, "timeout"}


async def test_endpoints_are_their_owners_and_regions_are_those_it_may_read(gql: GraphQLClient, db_url: str) -> None:
    us = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    other = await issue_partner_token(db_url, "rival", ["event_consumer"], "US")
    flagger = await issue_partner_token(db_url, "flagger", ["trusted_flagger"], "US")
    hook = await register(gql, us, "http://127.0.0.1:9/hook", ["decision.made"])
    hook_id = hook["webhook"]["id"]
    assert (await register(gql, us, "http://127.0.0.1:9/eu", ["decision.made"], ["EU"]))["code"] == "FORBIDDEN"
    assert (await register(gql, us, "ftp://example.com/x", ["decision.made"]))["code"] == "INVALID_INPUT"
    assert (await register(gql, us, "http://127.0.0.1:9/x", ["no.such.type"]))["code"] == "INVALID_INPUT"
    assert (await register(gql, us, "http://127.0.0.1:9/x", []))["code"] == "INVALID_INPUT"
    assert (await gql("{ webhooks { nodes { id } } }", token=other))["data"]["webhooks"]["nodes"] == []
    stolen = await gql(DISABLE, {"input": {"webhookId": hook_id}}, token=other)
    assert stolen["data"]["disableWebhook"]["code"] == "NOT_FOUND"
    refused = await gql("{ webhooks { nodes { id } } }", token=flagger)
    assert refused["data"]["webhooks"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    disabled = await gql(DISABLE, {"input": {"webhookId": hook_id}}, token=us)
    assert disabled["data"]["disableWebhook"]["webhook"]["enabled"] is False
    again = await gql(DISABLE, {"input": {"webhookId": hook_id}}, token=us)
    assert again["data"]["disableWebhook"]["code"] == "INVALID_STATE"
    mine = await gql("{ webhooks { nodes { id enabled } } }", token=us)
    assert mine["data"]["webhooks"]["nodes"] == [{"id": hook_id, "enabled": False}]


async def test_registering_and_rotating_are_audited_without_the_secret(gql: GraphQLClient, db_url: str) -> None:
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    hook = await register(gql, partner, "http://127.0.0.1:9/hook", ["decision.made"])
    await gql(ROTATE, {"input": {"webhookId": hook["webhook"]["id"]}}, token=partner)
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        rows = await conn.fetch(
            "SELECT action, after::text AS after FROM audit_events WHERE subject_kind = 'Webhook' ORDER BY seq"
        )
    finally:
        await conn.close()
    assert [r["action"] for r in rows] == ["registerWebhook", "rotateWebhookSecret"]
    assert all("whsec_" not in r["after"] for r in rows)
