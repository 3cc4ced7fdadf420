"""OpenTelemetry traces: a span per HTTP request, per GraphQL operation and per database statement.

On only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (spans go there by OTLP over HTTP, batched, with the standard
``OTEL_*`` variables: ``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_HEADERS``, ...). Off, every hook is one check of
``ENABLED`` and the SDK is never imported.

While on, a request's id (the ``X-Request-Id`` answered, the ``request_id`` of its log lines and audit events) is
its trace id, 32 hex digits: a log line leads to its trace. An incoming W3C ``traceparent`` is continued.

Background loops (the dispatcher, the audit sealer, the bulk job runner and its watcher) trace each tick as a
root span of its own, ``<loop> tick``, only when the tick found something to do (``background_tick`` and
``Tick.busy``): an idle tick's statements are held back and dropped, so an idle server sends no traces. A bulk
job stores the W3C ``traceparent`` of the request that submitted it (``current_traceparent``); the root span of
each of its chunks links to it (an OpenTelemetry span link: the chunk is its own trace, started by that request).

Span attributes never hold values: a statement's span carries its SQL text (placeholders, never the bound
parameters) and the operation's span the bounded operation label of the metrics (``api.metrics``).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from persistence.db import SESSION_CLIENT, observe_statements
from persistence.fast import sql as fastsql

ENABLED = False
_tracer: Tracer | None = None
_provider: Any = None
_PROPAGATOR = TraceContextTextMapPropagator()
MAX_STATEMENT = 2000


def configure_from_environment() -> bool:
    """Export by OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (once per process); True if tracing is on."""
    if ENABLED or not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return ENABLED
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "vigil")})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    enable(provider)
    return True


def enable(provider: Any) -> None:
    """Trace with ``provider`` (an SDK ``TracerProvider``; tests give one with an in-memory exporter)."""
    global ENABLED, _tracer, _provider
    _provider = provider
    _tracer = provider.get_tracer("vigil")
    ENABLED = True
    fastsql.set_query_observer(_asyncpg_statement)


def disable() -> None:
    global ENABLED, _tracer, _provider
    ENABLED, _tracer, _provider = False, None, None
    fastsql.set_query_observer(None)


def shutdown() -> None:
    """Flush what is batched (the app's shutdown)."""
    if _provider is not None:
        _provider.shutdown()


def _get_tracer() -> Tracer:
    assert _tracer is not None
    return _tracer


# -- HTTP requests -----------------------------------------------------------------------------------------------
#: Routes polled by machines (Prometheus scrapes and its collectors' statements, health probes): not traced unless
#: the caller sends a sampled ``traceparent``, so an idle server sends no traces.
POLLED_ROUTES = frozenset(("/healthz", "/readyz", "/metrics"))


@contextlib.contextmanager
def request_span(scope: Any) -> Iterator[tuple[str, Any]]:
    """The request's span, current while inside; yields (trace id in hex, span). A polled route's span is not
    recorded (nor anything under it, the metrics collectors' statements included) unless the incoming
    ``traceparent`` asks for it; its trace id is still the request id."""
    carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or ()}
    parent = _PROPAGATOR.extract(carrier={k: carrier[k] for k in ("traceparent", "tracestate") if k in carrier})
    method, path = scope.get("method", ""), scope.get("path", "")
    route = path if path in ("/graphql", "/healthz", "/readyz", "/metrics") else "other"
    incoming = trace.get_current_span(parent).get_span_context()
    if route in POLLED_ROUTES and not (incoming.is_valid and incoming.trace_flags.sampled):
        trace_id = incoming.trace_id if incoming.is_valid else random.getrandbits(128) or 1
        quiet = trace.NonRecordingSpan(
            trace.SpanContext(trace_id, random.getrandbits(64) or 1, is_remote=False, trace_flags=trace.TraceFlags(0))
        )
        token = otel_context.attach(trace.set_span_in_context(quiet))
        try:
            yield trace.format_trace_id(trace_id), quiet
        finally:
            otel_context.detach(token)
        return
    with _get_tracer().start_as_current_span(
        f"{method} {route}",
        context=parent,
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "http.route": route},
    ) as span:
        yield trace.format_trace_id(span.get_span_context().trace_id), span


def end_request(span: Any, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))


# -- GraphQL operations ------------------------------------------------------------------------------------------
def start_operation() -> tuple[Any, object]:
    """A span for the operation starting now, made current; ``end_operation`` ends it."""
    span = _get_tracer().start_span("graphql operation", kind=SpanKind.INTERNAL)
    token = otel_context.attach(trace.set_span_in_context(span))
    return span, token


def end_operation(started: tuple[Any, object], label: str, kind: str | None, outcome: str) -> None:
    span, token = started
    span.update_name(f"graphql {kind or 'operation'} {label}")
    span.set_attribute("graphql.operation.name", label)
    span.set_attribute("graphql.operation.type", kind or "unknown")
    span.set_attribute("vigil.outcome", outcome)
    span.end()
    with contextlib.suppress(ValueError):  # resumed in another context: the span is ended all the same
        otel_context.detach(token)  # type: ignore[arg-type]


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the span current now (tracing on, inside a request); else None."""
    if not ENABLED or not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


# -- background loops --------------------------------------------------------------------------------------------
@dataclass
class _Statement:
    attributes: dict[str, Any]
    start: int
    end: int
    error: str | None


@dataclass
class Tick:
    """One tick of a background loop. Its statements are held back until ``busy()`` says the tick has work:
    then its root span starts (at the tick's start, with ``links``), the held statements become its children
    and it is the current span for the rest of the tick. A tick never made busy leaves no span at all."""

    loop: str
    links: list[Link] = field(default_factory=list)
    started: int = field(default_factory=time.time_ns)
    held: list[_Statement] = field(default_factory=list)
    span: Any = None
    token: object | None = None
    closed: bool = False

    def busy(self) -> None:
        if self.span is not None or self.closed or not ENABLED:
            return
        self.span = _get_tracer().start_span(
            f"{self.loop} tick",
            context=otel_context.Context(),  # a root, whatever context the loop's task inherited
            kind=SpanKind.INTERNAL,
            links=self.links,
            start_time=self.started,
            attributes={"vigil.loop": self.loop},
        )
        self.token = otel_context.attach(trace.set_span_in_context(self.span))
        held, self.held = self.held, []
        for statement in held:
            self._emit(statement)

    def statement(self, statement: _Statement) -> None:
        """A statement run in the tick: held while idle, dropped once an idle tick ended, else a child span."""
        if self.span is not None:
            self._emit(statement)
        elif not self.closed:
            self.held.append(statement)

    def _emit(self, statement: _Statement) -> None:
        span = _get_tracer().start_span(
            f"db {statement.attributes['db.operation.name']}",
            context=trace.set_span_in_context(self.span),
            kind=SpanKind.CLIENT,
            attributes=statement.attributes,
            start_time=statement.start,
        )
        if statement.error is not None:
            span.set_status(Status(StatusCode.ERROR, statement.error))
        span.end(end_time=statement.end)


_TICK: contextvars.ContextVar[Tick | None] = contextvars.ContextVar("vigil_tick", default=None)
_IDLE = Tick("idle", closed=True)  # what ``background_tick`` yields while tracing is off: busy() does nothing


@contextlib.contextmanager
def background_tick(loop: str, *, link: str | None = None) -> Iterator[Tick]:
    """One tick of the background loop ``loop``; call ``busy()`` on what it yields once the tick has work.
    ``link``: a ``traceparent`` the tick's span links to (a bulk job's submitting request)."""
    if not ENABLED:
        yield _IDLE
        return
    links: list[Link] = []
    if link:
        linked = trace.get_current_span(_PROPAGATOR.extract({"traceparent": link})).get_span_context()
        if linked.is_valid:
            links.append(Link(linked))
    tick = Tick(loop, links)
    reset = _TICK.set(tick)
    try:
        yield tick
    finally:
        tick.closed = True
        tick.held.clear()
        _TICK.reset(reset)
        if tick.span is not None:
            if tick.token is not None:
                with contextlib.suppress(ValueError):  # made busy in another context: ended all the same
                    otel_context.detach(tick.token)  # type: ignore[arg-type]
            tick.span.end()


def busy() -> None:
    """The current tick has work (no-op outside a tick or with tracing off)."""
    tick = _TICK.get()
    if tick is not None:
        tick.busy()


def _waiting_tick() -> Tick | None:
    """The current tick while it has no span yet (its statements are held, or dropped once it ended idle)."""
    tick = _TICK.get()
    return tick if tick is not None and tick.span is None else None


# -- database statements -----------------------------------------------------------------------------------------
def _statement_attributes(sql: str, client: str) -> dict[str, Any]:
    return {
        "db.system.name": "postgresql",
        "db.client": client,
        "db.operation.name": sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "",
        "db.query.text": sql[:MAX_STATEMENT],
    }


def _asyncpg_statement(query: Any) -> None:
    """asyncpg's query logger, called just after a statement on the hot pool: a span over the time it took."""
    if not ENABLED:
        return
    end = time.time_ns()
    attributes = _statement_attributes(query.query, "asyncpg")
    tick = _waiting_tick()
    if tick is not None:
        error = None if query.exception is None else type(query.exception).__name__
        tick.statement(_Statement(attributes, end - int(query.elapsed * 1e9), end, error))
        return
    span = _get_tracer().start_span(
        f"db {attributes['db.operation.name']}",
        kind=SpanKind.CLIENT,
        attributes=attributes,
        start_time=end - int(query.elapsed * 1e9),
    )
    if query.exception is not None:
        span.set_status(Status(StatusCode.ERROR, type(query.exception).__name__))
    span.end(end_time=end)


def instrument_engine(engine: Any) -> None:
    """Spans for the SQLAlchemy engine's statements (listeners added only while tracing is on)."""
    observe_statements(engine, _session_statement)


def _session_statement(statement: str) -> Callable[[str | None], None] | None:
    """A statement starts on the session side: a span (or, inside a waiting tick, a held statement) until it ends."""
    if not ENABLED:
        return None
    attributes = _statement_attributes(statement, SESSION_CLIENT)
    tick = _waiting_tick()
    if tick is not None:
        start = time.time_ns()

        def held(error: str | None) -> None:
            tick.statement(_Statement(attributes, start, time.time_ns(), error))

        return held
    span = _get_tracer().start_span(
        f"db {attributes['db.operation.name']}", kind=SpanKind.CLIENT, attributes=attributes
    )

    def end(error: str | None) -> None:
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
        span.end()

    return end
