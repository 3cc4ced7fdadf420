"""`GET /metrics` read with Prometheus' own text parser, after real requests on the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.metrics import OperationNames
from api.settings import Settings
from persistence.db import create_engine
from persistence.tables.cases import cases
from tests.integration.conftest import GraphQLClient
from tests.integration.operations.helpers import define_queue, seed_cases
from tests.integration.tokens import issue_staff_token

pytestmark = pytest.mark.db


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, keyed by (sample name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(http: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def test_operations_are_counted_by_name_and_outcome(http: httpx.AsyncClient, db_url: str) -> None:
    token = await issue_staff_token(db_url, "moderator", "US")
    headers = {"Authorization": f"Bearer {token}"}
    before = await scrape(http)

    for _ in range(3):
        await http.post("/graphql", json={"query": "query MetricsProbe { viewer { id } }"}, headers=headers)
    await http.post("/graphql", json={"query": "{ viewer { id } }"}, headers=headers)
    refused = "mutation MetricsRefused { rerouteCases(input: {region: US}) { __typename } }"
    await http.post("/graphql", json={"query": refused}, headers=headers)
    typed = 'mutation MetricsTyped { escalateCase(input: {caseId: "nope", reason: "x"}) { __typename } }'
    await http.post("/graphql", json={"query": typed}, headers=headers)
    await http.post("/graphql", json={"query": "query Broken { viewer {"}, headers=headers)
    after = await scrape(http)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ops = "vigil_graphql_operations_total"
    assert delta(ops, operation="MetricsProbe", type="query", outcome="OK") == 3
    assert delta(ops, operation="unnamed", type="query", outcome="OK") == 1
    assert delta(ops, operation="MetricsRefused", type="mutation", outcome="FORBIDDEN") == 1
    assert delta(ops, operation="MetricsTyped", type="mutation", outcome="INVALID_INPUT") == 1
    assert not any(labels[0][1] == "Broken" for name, labels in after if name == ops)  # did not parse: HTTP only
    latency = "vigil_graphql_operation_duration_seconds_count"
    assert delta(latency, operation="MetricsProbe", type="query", outcome="OK") == 3
    assert delta("vigil_http_requests_total", route="/graphql", method="POST", status="200") >= 6
    # the pools: labelled by name, never by anything a caller sent
    assert ("vigil_db_pool_connections_in_use", (("pool", "fast"),)) in after
    assert ("vigil_db_pool_connections_in_use", (("pool", "session"),)) in after
    assert all("viewer" not in v for (_, labels) in after for _, v in labels)


async def test_moderation_gauges_and_seal_lag_come_from_one_scrape(
    http: httpx.AsyncClient, gql: GraphQLClient, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    queue = await define_queue(gql, admin, "us-metrics")
    ids = await seed_cases(db_url, queue["id"], 3)
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.begin() as conn:  # one case is a day old and past its SLA, one is decided
            past = datetime.now(UTC) - timedelta(days=1)
            await conn.execute(
                sa.update(cases)
                .where(cases.c.id == ids[0])
                .values(created_at=past, sla_due_at=past + timedelta(hours=1))
            )
            await conn.execute(sa.update(cases).where(cases.c.id == ids[1]).values(state="DECIDED"))
    finally:
        await engine.dispose()

    found = await scrape(http)
    where = {"region": "US", "queue": "us-metrics"}
    assert value(found, "vigil_cases_open", **where) == 2
    assert value(found, "vigil_cases_sla_breached", **where) == 1
    assert 86_000 < value(found, "vigil_cases_open_oldest_age_seconds", **where) < 90_000
    assert value(found, "vigil_scrape_collector_up", collector="moderation") == 1
    # the admin's token and the queue were audited; the app's sealer has not run a pass necessarily, so the lag
    # is whatever is unsealed, and at least a number
    assert ("vigil_audit_unsealed_events", ()) in found
    assert value(found, "vigil_audit_seal_lag_seconds") >= 0


async def test_database_figures_are_cached_between_scrapes(http: httpx.AsyncClient, db_url: str) -> None:
    """The default 5 s: a case opened right after a scrape shows in the next scrape only once the cache expires."""
    admin = await issue_staff_token(db_url, "admin", "*")
    gql = GraphQLClient(http)
    queue = await define_queue(gql, admin, "us-cached")
    first = await scrape(http)
    await seed_cases(db_url, queue["id"], 2)
    second = await scrape(http)
    assert value(second, "vigil_cases_open", region="US", queue="us-cached") == value(
        first, "vigil_cases_open", region="US", queue="us-cached"
    )
    http_app = http._transport.app  # type: ignore[attr-defined]
    http_app.state.runtime.scrape_cache.cached.clear()  # what the passing of 5 s does
    third = await scrape(http)
    assert value(third, "vigil_cases_open", region="US", queue="us-cached") == 2


@pytest.mark.parametrize(
    ("env", "token", "sent", "status"),
    [
        ("production", None, None, 404),
        ("production", "s3cret-metrics", None, 401),
        ("production", "s3cret-metrics", "wrong", 401),
        ("production", "s3cret-metrics", "s3cret-metrics", 200),
        ("test", "s3cret-metrics", None, 401),
        ("test", None, None, 200),
    ],
)
async def test_metrics_are_protected_in_production(
    db_url: str, env: str, token: str | None, sent: str | None, status: int
) -> None:
    settings = Settings(env=env, metrics_token=token)  # type: ignore[arg-type]
    app = create_app(settings, database_url=db_url)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        headers = {"Authorization": f"Bearer {sent}"} if sent else {}
        response = await http.get("/metrics", headers=headers)
    assert response.status_code == status, response.text
    if status == 200:
        assert any(f.name == "vigil_cases_open" for f in text_string_to_metric_families(response.text))


def test_operation_names_are_bounded() -> None:
    names = OperationNames(cap=2)
    assert names.label(None) == "unnamed"
    assert names.label("First") == "First"
    assert names.label("jane.doe@example.com") == "other"  # not a GraphQL name: never a label
    assert names.label("Second") == "Second"
    assert names.label("Third") == "other"  # over the cap
    assert names.label("First") == "First"
    assert names.label("x" * 65) == "other"
