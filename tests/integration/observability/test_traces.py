"""Traces of real requests, caught by the SDK's in-memory exporter: request → operation → statements."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from api import tracing
from api.app import create_app
from api.settings import Settings
from tests.integration.tokens import issue_partner_token, issue_staff_token

pytestmark = pytest.mark.db

SECRET_EMAIL = "trace-secret-7f3a@example.com"
UPSERT = """
mutation TraceUpsert($input: UpsertAccountInput!) { upsertAccount(input: $input) {
  __typename ... on UpsertAccountSuccess { account { id } } ... on Error { code message } } }"""


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracing.enable(provider)
    try:
        yield memory
    finally:
        tracing.disable()


@pytest.fixture
async def traced_http(exporter: InMemorySpanExporter, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(env="test", principal_cache_seconds=0), database_url=db_url)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            yield client


def of_trace(spans: tuple[ReadableSpan, ...], trace_id: str) -> list[ReadableSpan]:
    return [s for s in spans if s.context is not None and format_trace_id(s.context.trace_id) == trace_id]


async def test_one_request_is_one_tree_and_its_id_is_the_trace(
    traced_http: httpx.AsyncClient, exporter: InMemorySpanExporter, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    variables = {
        "input": {
            "region": "US",
            "externalId": "traced",
            "kind": "USER",
            "handle": "traced",
            "displayName": "Traced",
            "email": SECRET_EMAIL,
        }
    }
    exporter.clear()
    with caplog.at_level(logging.INFO, logger="vigil.graphql"):
        response = await traced_http.post(
            "/graphql", json={"query": UPSERT, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
        )
        await asyncio.sleep(0)  # asyncpg reports a statement on the loop's next turn
    assert response.json()["data"]["upsertAccount"]["__typename"] == "UpsertAccountSuccess"
    trace_id = response.headers["x-request-id"]
    assert len(trace_id) == 32
    spans = of_trace(exporter.get_finished_spans(), trace_id)

    (request,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert request.parent is None
    assert request.name == "POST /graphql"
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 200
    (operation,) = [s for s in spans if s.name.startswith("graphql ")]
    assert operation.name == "graphql mutation TraceUpsert"
    assert operation.parent is not None
    assert operation.parent.span_id == request.context.span_id
    statements = [s for s in spans if s.kind is SpanKind.CLIENT]
    under_operation = [s for s in statements if s.parent and s.parent.span_id == operation.context.span_id]  # type: ignore[union-attr]
    assert under_operation, [s.name for s in statements]
    assert any((s.attributes or {}).get("db.operation.name") == "INSERT" for s in under_operation)
    assert all(s.parent is not None for s in statements)
    # no bound value anywhere: the email went in as a parameter
    for span in spans:
        for key, value in (span.attributes or {}).items():
            assert SECRET_EMAIL not in str(value), (span.name, key)
    # the log lines of the request carry the trace id as their request id
    logged = [r for r in caplog.records if r.getMessage() == "graphql operation"]
    assert [getattr(r, "request_id", None) for r in logged] == [trace_id]


async def test_both_database_clients_are_traced(
    traced_http: httpx.AsyncClient, exporter: InMemorySpanExporter, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    exporter.clear()
    response = await traced_http.post(
        "/graphql", json={"query": "{ cases(first: 5) { nodes { id } } }"}, headers={"Authorization": f"Bearer {admin}"}
    )
    await asyncio.sleep(0)
    spans = of_trace(exporter.get_finished_spans(), response.headers["x-request-id"])
    clients = {(s.attributes or {}).get("db.client") for s in spans if s.kind is SpanKind.CLIENT}
    assert clients == {"asyncpg", "sqlalchemy"}  # the page on the pool, the token lookup on the engine


async def test_an_incoming_traceparent_is_continued(traced_http: httpx.AsyncClient) -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = await traced_http.get("/healthz", headers={"traceparent": parent})
    assert response.headers["x-request-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_off_without_an_endpoint(http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert not tracing.ENABLED
    assert tracing.configure_from_environment() is False
    response = await http.get("/healthz", headers={"X-Request-Id": "client-chosen-id"})
    assert response.headers["x-request-id"] == "client-chosen-id"


def test_on_with_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # nothing is exported: no span made
    try:
        assert tracing.configure_from_environment() is True
        assert tracing.ENABLED
    finally:
        tracing.shutdown()
        tracing.disable()
