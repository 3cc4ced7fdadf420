"""Traces of the background loops, caught by the SDK's in-memory exporter: an idle tick leaves no trace at all, a
tick with work is one root span over its statements, and a bulk job's chunks link to the request that submitted
it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from api import tracing
from api.app import create_app
from api.services.bulk_jobs import BulkJobRunner
from api.services.dispatcher import Dispatcher
from api.settings import Settings
from persistence.audit import AuditSealer
from persistence.db import create_engine, create_session_factory
from persistence.fast.sql import Pool, create_pool
from tests.integration.bulk.helpers import open_cases, submit
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

pytestmark = pytest.mark.db


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
async def traced_gql(exporter: InMemorySpanExporter, db_url: str) -> AsyncIterator[GraphQLClient]:
    app = create_app(Settings(env="test", principal_cache_seconds=0), database_url=db_url)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            yield GraphQLClient(client)


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[Pool]:
    created = await create_pool(db_url, size=2)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
async def sealer(db_url: str) -> AsyncIterator[AuditSealer]:
    engine = create_engine(db_url, pool_size=1)
    tracing.instrument_engine(engine)
    try:
        yield AuditSealer(create_session_factory(engine), interval=0, traced=tracing.background_tick)
    finally:
        await engine.dispose()


async def settled() -> None:
    """asyncpg reports a statement on the loop's next turn."""
    for _ in range(3):
        await asyncio.sleep(0)


def roots(spans: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [s for s in spans if s.parent is None]


def children(spans: tuple[ReadableSpan, ...], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


async def test_idle_ticks_leave_no_trace(
    exporter: InMemorySpanExporter, pool: Pool, sealer: AuditSealer, db_url: str
) -> None:
    await sealer.tick()  # seal what the test database's set-up left, so the next tick is idle
    dispatcher = Dispatcher(pool)
    runner = BulkJobRunner(pool)
    try:
        await dispatcher.run_once()  # the template database's events, if any, fanned out
        await settled()
        exporter.clear()
        assert await sealer.tick() == 0
        result = await dispatcher.run_once()
        assert (result.fanned_out, result.published, sum(result.outcomes.values())) == (0, 0, 0)
        await dispatcher._tick()
        assert await runner.resume_expired() == 0
        await settled()
    finally:
        await dispatcher.close()
    assert exporter.get_finished_spans() == ()


async def test_a_tick_with_work_is_one_root_span_over_its_statements(
    exporter: InMemorySpanExporter, sealer: AuditSealer, db_url: str
) -> None:
    # No app here: a running app seals every 2 s in the background and could seal these events first (or hold the
    # sealing lock), leaving this tick nothing to do.
    await issue_staff_token(db_url, "admin", "*")  # audit events to seal
    exporter.clear()
    assert await sealer.tick() > 0
    spans = exporter.get_finished_spans()
    (tick,) = roots(spans)
    assert tick.name == "audit sealer tick"
    assert tick.kind is SpanKind.INTERNAL
    statements = children(spans, tick)
    assert statements
    assert len(statements) == len(spans) - 1  # the statements before it had work hang under it too
    assert all(s.kind is SpanKind.CLIENT for s in statements)
    assert tick.start_time is not None
    assert all(s.start_time is not None and s.start_time >= tick.start_time for s in statements)


async def test_a_bulk_jobs_chunks_link_to_the_request_that_submitted_it(
    exporter: InMemorySpanExporter, traced_gql: GraphQLClient, pool: Pool, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    hate = await flows.policy(traced_gql, admin, "HATE_SPEECH")
    cases = await open_cases(traced_gql, platform, hate, 3)
    exporter.clear()
    submitted = await submit(traced_gql, admin, cases, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    assert submitted["__typename"] == "BulkDecideCasesSuccess"
    await settled()
    (request,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert request.context is not None
    request_trace = request.context.trace_id
    submitted_in = {s.context.span_id for s in exporter.get_finished_spans() if s.context.trace_id == request_trace}

    exporter.clear()
    runner = BulkJobRunner(pool, chunk_size=2)
    job = await runner.take_over()
    assert job is not None
    first, second = await runner.run_chunk(job), await runner.run_chunk(job)
    assert (first.succeeded, first.finished, second.succeeded, second.finished) == (2, False, 1, True)
    await settled()
    spans = exporter.get_finished_spans()
    chunks = [s for s in roots(spans) if s.name == "bulk chunk tick"]
    assert len(chunks) == 2
    for chunk in chunks:
        assert chunk.context is not None
        assert chunk.context.trace_id != request_trace  # its own trace, linked to the request's
        (link,) = chunk.links
        assert link.context.trace_id == request_trace
        assert link.context.span_id in submitted_in  # the span current when the job was submitted
        assert children(spans, chunk)
    assert format_trace_id(request_trace) == format_trace_id(chunks[0].links[0].context.trace_id)
    assert not (await runner.run_chunk(job)).ran  # the job is done: nothing to do, no trace
    await settled()
    assert len(exporter.get_finished_spans()) == len(spans)


async def test_polled_routes_are_not_traced_unless_asked(
    exporter: InMemorySpanExporter, traced_gql: GraphQLClient
) -> None:
    http = traced_gql.http
    await http.get("/metrics")  # the first scrape fills the collectors' cache: the next one reads it again
    exporter.clear()
    for path in ("/metrics", "/healthz", "/readyz"):
        response = await http.get(path)
        assert response.status_code == 200, (path, response.text[:200])
        assert len(response.headers["x-request-id"]) == 32  # still a trace id
    await settled()
    assert exporter.get_finished_spans() == ()  # no request span, no collector statement

    sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = await http.get("/metrics", headers={"traceparent": sampled})
    assert response.headers["x-request-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    await settled()
    (request,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert request.name == "GET /metrics"
    unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b7-00"
    exporter.clear()
    response = await http.get("/healthz", headers={"traceparent": unsampled})
    assert response.headers["x-request-id"] == "4bf92f3577b34da6a3ce929d0e0e4737"
    assert exporter.get_finished_spans() == ()
