"""Operating webhooks: a failed delivery is one WARNING line (endpoint, status or error, attempt, next try; never
the payload), `/metrics` shows each endpoint's pending deliveries and the age of the oldest, and
`retryWebhookDeliveries` sends what is pending at once when the endpoint is back (audited; typed refusals).
Dispatcher passes run on fixed clocks: nothing depends on how fast the machine is."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from api.logs import JsonFormatter
from domain.clock import FixedClock
from persistence.fast.sql import asyncpg_dsn
from tests.integration.conftest import GraphQLClient
from tests.integration.observability.test_metrics import scrape, value
from tests.integration.outbox.helpers import DISABLE, RETRY, decided_case, dispatcher, register
from tests.integration.outbox.receiver import running_receiver
from tests.integration.tokens import issue_partner_token, issue_staff_token

TYPES = ["case.opened", "decision.made", "enforcement.applied"]


async def fetch(db_url: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


async def test_a_failed_delivery_is_one_warning_line_without_the_payload(
    gql: GraphQLClient, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    t0 = datetime.now(UTC) + timedelta(hours=1)
    with running_receiver() as receiver:
        receiver.down = True
        await register(gql, partner, receiver.url("/flaky"), TYPES)
        await decided_case(gql, admin, "logged")
        caplog.set_level(logging.WARNING, logger="vigil.dispatch")
        async with dispatcher(db_url, clock=FixedClock(t0), jitter=lambda: 1.0) as d:
            result = await d.run_once()
    failed = result.outcomes["failed"]
    assert failed >= 3
    [endpoint] = await fetch(db_url, "SELECT id FROM webhook_endpoints")
    lines = [r for r in caplog.records if r.name == "vigil.dispatch"]
    assert len(lines) == failed
    for record in lines:
        assert record.levelno == logging.WARNING
        fields = json.loads(JsonFormatter().format(record))
        assert fields["endpoint_id"] == str(endpoint["id"])
        assert (fields["status"], fields["error"], fields["attempt"]) == (503, "HTTP 503", 1)
        assert fields["next_attempt_at"] == (t0 + timedelta(seconds=30)).isoformat()
        line = JsonFormatter().format(record)
        assert "\n" not in line
        assert "caseId" not in line
        assert "payload" not in line


async def test_retry_sends_what_is_pending_now_once_the_endpoint_is_back(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    rival = await issue_partner_token(db_url, "rival", ["event_consumer"], "US")
    t0 = datetime.now(UTC) + timedelta(hours=1)  # later than the retry's "now": what it makes due is due at t0
    with running_receiver() as receiver:
        receiver.down = True
        hook = await register(gql, partner, receiver.url("/flaky"), TYPES)
        hook_id = hook["webhook"]["id"]
        await decided_case(gql, admin, "retried")
        async with dispatcher(db_url, clock=FixedClock(t0)) as d:
            failed = (await d.run_once()).outcomes["failed"]
            receiver.down = False
            assert (await d.run_once()).outcomes == {}  # back, but the next try is ~30 s away
            stranger = await gql(RETRY, {"input": {"webhookId": hook_id}}, token=rival)
            assert stranger["data"]["retryWebhookDeliveries"]["code"] == "NOT_FOUND"
            garbled = await gql(RETRY, {"input": {"webhookId": "nonsense"}}, token=partner)
            assert garbled["data"]["retryWebhookDeliveries"]["field"] == "webhookId"
            retried = await gql(RETRY, {"input": {"webhookId": hook_id}}, token=partner)
            assert retried["data"]["retryWebhookDeliveries"]["retried"] == failed, retried
            assert (await d.run_once()).outcomes == {"delivered": failed}
        assert len(receiver.at("/flaky")) == 2 * failed
    disabled = await gql(DISABLE, {"input": {"webhookId": hook_id}}, token=partner)
    assert disabled["data"]["disableWebhook"]["webhook"]["enabled"] is False
    refused = await gql(RETRY, {"input": {"webhookId": hook_id}}, token=partner)
    assert refused["data"]["retryWebhookDeliveries"]["code"] == "INVALID_STATE"
    audit = "SELECT after::text AS after FROM audit_events WHERE action = 'retryWebhookDeliveries'"
    audited = await fetch(db_url, audit)
    assert [json.loads(r["after"]) for r in audited] == [{"retried": failed}]
    states = await fetch(db_url, "SELECT state, attempts FROM webhook_deliveries")
    assert {(r["state"], r["attempts"]) for r in states} == {("DELIVERED", 1)}


async def test_metrics_show_each_endpoints_pending_deliveries_and_the_oldest_ones_age(
    http: httpx.AsyncClient, gql: GraphQLClient, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with running_receiver() as receiver:
        await register(gql, partner, receiver.url("/fail"), TYPES)
        await register(gql, partner, receiver.url("/ok"), TYPES)
        await decided_case(gql, admin, "scraped")
        async with dispatcher(db_url, clock=FixedClock(an_hour_ago)) as d:
            outcomes = (await d.run_once()).outcomes
    rows = await fetch(db_url, "SELECT id, url FROM webhook_endpoints")
    ids = {r["url"].rsplit("/", 1)[1]: str(r["id"]) for r in rows}
    found = await scrape(http)
    assert value(found, "vigil_webhook_pending_deliveries", endpoint=ids["fail"]) == outcomes["failed"] >= 3
    assert value(found, "vigil_webhook_oldest_pending_age_seconds", endpoint=ids["fail"]) >= 3600
    assert ("vigil_webhook_pending_deliveries", (("endpoint", ids["ok"]),)) in found
    assert value(found, "vigil_webhook_pending_deliveries", endpoint=ids["ok"]) == 0
    assert value(found, "vigil_webhook_oldest_pending_age_seconds", endpoint=ids["ok"]) == 0
