"""The outbox on /metrics: the backlog (events not yet fanned out, and the age of the oldest) read at scrape time,
and the webhook delivery outcomes counted as they happen, both read with Prometheus' own text parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from api.metrics import WEBHOOK_DELIVERIES
from api.services.dispatcher import delivery_outcomes
from persistence.outbox import backlog
from tests.integration.conftest import GraphQLClient
from tests.integration.observability.test_metrics import scrape, value
from tests.integration.outbox.helpers import decided_case, dispatcher, register
from tests.integration.outbox.receiver import running_receiver
from tests.integration.tokens import issue_partner_token, issue_staff_token


async def test_the_backlog_empties_when_the_dispatcher_passes(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    with running_receiver() as receiver:
        await register(gql, partner, receiver.url("/ok"), ["decision.made"])
        await decided_case(gql, admin, "backlog")
        async with dispatcher(db_url) as d:
            later = datetime.now(UTC) + timedelta(minutes=5)
            count, age = await backlog(d.pool, later)
            assert count >= 4  # case opened, decided; decision; removal
            assert 300 <= age < 400
            before = delivery_outcomes().get("delivered", 0)
            counted = WEBHOOK_DELIVERIES.labels("delivered")._value.get()
            await d.run_once()
            assert await backlog(d.pool, later) == (0, 0.0)
            assert delivery_outcomes()["delivered"] == before + 1
            assert WEBHOOK_DELIVERIES.labels("delivered")._value.get() == counted + 1


async def test_metrics_show_the_backlog_and_the_delivery_outcomes(
    http: httpx.AsyncClient, gql: GraphQLClient, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await decided_case(gql, admin, "scraped")  # no dispatcher runs in the test app: its events wait
    found = await scrape(http)
    assert value(found, "vigil_scrape_collector_up", collector="outbox") == 1
    assert value(found, "vigil_outbox_undispatched_events") >= 4
    assert value(found, "vigil_outbox_oldest_undispatched_age_seconds") >= 0
