"""Issue 23's metrics, the ones an on-call person alerts on, read from `GET /metrics` after real requests: report
intake by source, policy and region; DSA statements by state; NATS publish outcomes; HTTP latency by method and
status. And issue 20: `/metrics` takes the `Bearer` scheme in any case."""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlsplit

import httpx
import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.services.nats_publisher import NatsPublisher
from api.settings import Settings
from persistence.fast.sql import create_pool
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.observability.test_metrics import scrape, value
from tests.integration.operations.test_automation import define_rule, signal
from tests.integration.outbox.helpers import decided_case
from tests.integration.tokens import issue_partner_token, issue_staff_token

NATS_URL = os.environ.get("VIGIL_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("Bearer s3cret-metrics", 200),
        ("bearer s3cret-metrics", 200),
        ("BEARER s3cret-metrics", 200),
        ("bEaReR  s3cret-metrics", 200),
        ("Basic s3cret-metrics", 401),
        ("s3cret-metrics", 401),
        ("Bearer", 401),
        ("bearer S3CRET-METRICS", 401),  # the scheme is case-insensitive, the token is not
    ],
)
async def test_the_bearer_scheme_is_case_insensitive(db_url: str, header: str, status: int) -> None:
    app = create_app(Settings(env="production", metrics_token="s3cret-metrics"), database_url=db_url)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/metrics", headers={"Authorization": header})
    assert response.status_code == status, response.text


async def test_http_latency_carries_method_and_status(http: httpx.AsyncClient) -> None:
    before = await scrape(http)
    await http.post("/graphql", json={"query": "{ __typename }"})
    await http.get("/graphql-nowhere")
    after = await scrape(http)

    def delta(**labels: str) -> float:
        name = "vigil_http_request_duration_seconds_count"
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta(route="/graphql", method="POST", status="200") == 1
    assert delta(route="other", method="GET", status="404") == 1


async def test_report_intake_is_counted_by_source_policy_and_region(
    http: httpx.AsyncClient, gql: GraphQLClient, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    flagger = await issue_partner_token(db_url, "flagger", ["trusted_flagger"], "EU")
    policy = await flows.policy(gql, admin, "INTAKE_METRICS")
    us_owner = await flows.account(gql, admin, "us-owner")
    eu_owner = await flows.account(gql, admin, "eu-owner", region="EU")
    us_video = await flows.content(gql, admin, us_owner, "us-video")
    eu_video = await flows.content(gql, admin, eu_owner, "eu-video")
    assert (await define_rule(gql, admin, policy))["__typename"] == "DefineAutomationRuleSuccess"
    before = await scrape(http)

    await flows.report(gql, platform, us_video, policy, key="one")
    await flows.report(gql, platform, us_video, policy, key="one")  # a replay: not a new report
    item = {"subjectId": eu_video, "policyId": policy, "source": "USER", "idempotencyKey": "batch"}
    batch = [item, item, {**item, "idempotencyKey": "other"}, {**item, "policyId": "not-an-id"}]
    body = await gql(flows.SUBMIT_REPORTS, {"input": {"reports": batch}}, token=platform)
    kinds = [r["__typename"] for r in flows.ok(body, "submitReports", "SubmitReportsSuccess")["results"]]
    assert kinds == ["SubmitReportSuccess"] * 3 + ["InvalidInputError"]  # two new reports, one twice, one refused
    await flows.report(gql, flagger, eu_video, policy, source="TRUSTED_FLAGGER")
    await flows.report(gql, flagger, eu_video, policy, source="TRUSTED_FLAGGER", key="k")
    for _ in range(2):  # the second signal replays the first
        outcome = flows.ok(
            await signal(gql, platform, us_video, policy, 0.75, key="sig"), "submitSignal", "SubmitSignalSuccess"
        )
        assert outcome["outcomes"][0]["outcome"] == "ENQUEUED"
    await signal(gql, platform, us_video, policy, 0.1)  # IGNORED: files nothing
    after = await scrape(http)

    def delta(source: str, region: str) -> float:
        labels = {"source": source, "policy": "INTAKE_METRICS", "region": region}
        return value(after, "vigil_reports_received_total", **labels) - value(
            before, "vigil_reports_received_total", **labels
        )

    assert delta("USER", "US") == 1
    assert delta("USER", "EU") == 2
    assert delta("TRUSTED_FLAGGER", "EU") == 2
    assert delta("AUTOMATED", "US") == 1
    assert delta("AUTOMATED", "EU") == delta("TRUSTED_FLAGGER", "US") == 0


async def test_dsa_statements_by_state(http: httpx.AsyncClient, gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    empty = await scrape(http)
    assert value(empty, "vigil_dsa_statements", state="PENDING", region="EU") == 0
    assert ("vigil_dsa_statements", (("region", "EU"), ("state", "REJECTED"))) in empty  # present at 0

    await decided_case(gql, admin, "eu-removal", region="EU")
    http_app = http._transport.app  # type: ignore[attr-defined]
    http_app.state.runtime.scrape_cache.cached.clear()  # what the passing of the cache period does
    found = await scrape(http)

    assert value(found, "vigil_dsa_statements", state="PENDING", region="EU") == 1
    assert value(found, "vigil_dsa_statements", state="IN_FLIGHT", region="EU") == 0
    assert value(found, "vigil_dsa_statements_oldest_age_seconds", state="PENDING", region="EU") >= 0
    assert value(found, "vigil_scrape_collector_up", collector="dsa") == 1


def _nats_reachable() -> bool:
    parts = urlsplit(NATS_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=1):
            return True
    except OSError:
        return False


def _publishes(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "vigil_nats_publish_total":
                found[sample.labels["outcome"]] = sample.value
    return found


@pytest.mark.skipif(not _nats_reachable(), reason=f"no NATS server at {NATS_URL}")
async def test_nats_publish_outcomes(http: httpx.AsyncClient, gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await decided_case(gql, admin, "nats-case")
    tag = uuid.uuid4().hex[:12]
    stream = f"VIGILTEST_{tag}"
    publisher = NatsPublisher(NATS_URL, stream=stream, prefix=f"vigiltest{tag}")
    pool = await create_pool(db_url, size=2)
    nc = await nats.connect(NATS_URL)
    try:
        start = _publishes((await http.get("/metrics")).text)
        events = await publisher.publish_pending(pool)
        assert events > 0
        published = _publishes((await http.get("/metrics")).text)
        async with pool.acquire() as conn:
            await conn.execute("UPDATE outbox_events SET published_at = NULL")  # a dispatcher died before recording
        assert await publisher.publish_pending(pool) == events
        duplicated = _publishes((await http.get("/metrics")).text)
        async with pool.acquire() as conn:
            await conn.execute("UPDATE outbox_events SET published_at = NULL")
        await nc.jetstream().delete_stream(stream)  # nothing answers on the subjects any more
        with pytest.raises(Exception):  # noqa: B017 (whichever error the client raises)
            await publisher.publish_pending(pool)
        failed = _publishes((await http.get("/metrics")).text)
    finally:
        await publisher.close()
        await nc.close()
        await pool.close()

    def grew(later: dict[str, float], earlier: dict[str, float], outcome: str) -> float:
        return later.get(outcome, 0) - earlier.get(outcome, 0)

    assert grew(published, start, "published") == events
    assert grew(duplicated, published, "duplicate") == events
    assert grew(duplicated, published, "published") == 0
    assert grew(failed, duplicated, "failed") == events
