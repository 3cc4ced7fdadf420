"""``GET /metrics``: Prometheus text format (prometheus-client).

Two kinds of figures:

- **Counted as they happen**, in the process that served the request: GraphQL operations (count and latency per
  operation name, type and outcome code), HTTP requests and their latency per route, method and status,
  connections in use per pool, reports accepted per source, policy and region (once their write committed:
  ``api.graphql.accepted_reports``), webhook delivery attempts and NATS publishes by outcome (in the process
  that dispatched them).
- **Read at scrape time** from the database by *scrape collectors*, async callables registered by name in
  ``SCRAPE_COLLECTORS``: the moderation workload (open cases, oldest open case, SLA breaches, per region and
  queue), the audit seal lag and the outbox backlog (undispatched events, the oldest one's age; pending webhook
  deliveries and the oldest one's age, per endpoint), the DSA statements not submitted yet or refused, per state
  and region, the rules' delayed actions waiting to run, per region. Each collector's
  answer is cached ``VIGIL_METRICS_CACHE_SECONDS`` per process, so however often (and however many) scrapers ask,
  the database sees at most one query per collector per worker per period.

**Several workers** (``VIGIL_WORKERS``): prometheus-client's multiprocess mode. ``vigil serve`` gives the worker
processes a fresh ``PROMETHEUS_MULTIPROC_DIR`` (``api.serving``); each worker writes its counters, histograms
and gauges to memory-mapped files there, and whichever worker answers a scrape sums every worker's files. The
database figures are computed by the answering worker alone (they are the same whoever asks).

**Labels** carry no personal data and no query text: routes are the app's own paths (anything else is
``other``), outcome codes are Vigil's error codes, and an operation name is the client's ``operationName`` only
when it is a plain GraphQL name of at most 64 characters and the process has seen fewer than
``MAX_OPERATION_NAMES`` distinct names; an unnamed operation is ``unnamed``, and everything else collapses into
``other``. A document that does not parse is counted by the HTTP figures only.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.region import Region
from persistence.delayed_actions import pending_by_region
from persistence.outbox import backlog, delivery_backlog
from persistence.queries.gauges import queue_workload, seal_lag
from persistence.queries.statement_gauges import WATCHED, statement_states

log = logging.getLogger("vigil.metrics")
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
MAX_OPERATION_NAMES = 200
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

OPERATIONS = Counter(
    "vigil_graphql_operations_total",
    "GraphQL operations by operation name, type (query, mutation) and outcome (OK or the first error code)",
    ["operation", "type", "outcome"],
)
OPERATION_SECONDS = Histogram(
    "vigil_graphql_operation_duration_seconds",
    "GraphQL operation latency, parse to result",
    ["operation", "type", "outcome"],
    buckets=_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "vigil_http_requests_total", "HTTP requests by route, method and status", ["route", "method", "status"]
)
HTTP_SECONDS = Histogram(
    "vigil_http_request_duration_seconds",
    "HTTP request latency by route, method and status",
    ["route", "method", "status"],
    buckets=_BUCKETS,
)
WEBHOOK_DELIVERIES = Counter(
    "vigil_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered; failed: tried again later; dead: the last try failed)",
    ["outcome"],
)
REPORTS_RECEIVED = Counter(
    "vigil_reports_received_total",
    "Reports accepted (new ones, not idempotent replays) by source, policy code and the subject's region",
    ["source", "policy", "region"],
)
NATS_PUBLISHED = Counter(
    "vigil_nats_publish_total",
    "Outbox events sent to NATS JetStream by outcome (published; duplicate: JetStream already held it; failed)",
    ["outcome"],
)
POOL_IN_USE = Gauge(
    "vigil_db_pool_connections_in_use",
    "Database connections checked out, per pool (session: SQLAlchemy; fast: the hot paths' asyncpg pool)",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "vigil_db_pool_connections_open", "Database connections open, per pool", ["pool"], multiprocess_mode="livesum"
)

ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})
_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class OperationNames:
    """The bounded ``operation`` label: at most ``cap`` distinct client names per process."""

    def __init__(self, cap: int = MAX_OPERATION_NAMES) -> None:
        self.cap = cap
        self.seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return "unnamed"
        if name in self.seen:
            return name
        if len(self.seen) >= self.cap or not _OPERATION_NAME.fullmatch(name):
            return "other"
        self.seen.add(name)
        return name


OPERATION_NAMES = OperationNames()


_operation_series: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_operation(name: str | None, kind: str | None, outcome: str, seconds: float) -> None:
    labels = (OPERATION_NAMES.label(name), kind or "unknown", outcome)
    series = _operation_series.get(labels)
    if series is None:  # looked up once per label set (bounded): a request pays two dict hits, not four lookups
        series = _operation_series[labels] = (OPERATIONS.labels(*labels), OPERATION_SECONDS.labels(*labels))
    series[0].inc()
    series[1].observe(seconds)


def observe_request(path: str, method: str, status: int, seconds: float) -> None:
    key = (path if path in ROUTES else "other", method if method in ("GET", "POST") else "other", status)
    series = _request_series.get(key)
    if series is None:
        labels = (key[0], key[1], str(status))
        series = _request_series[key] = (HTTP_REQUESTS.labels(*labels), HTTP_SECONDS.labels(*labels))
    series[0].inc()
    series[1].observe(seconds)


def observe_reports(accepted: Iterable[tuple[str, str, str]]) -> None:
    """Reports a committed request filed: (source, policy code, region) each."""
    for labels in accepted:
        REPORTS_RECEIVED.labels(*labels).inc()


# -- scrape-time collectors ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScrapeSources:
    """What a scrape collector may read: the app's asyncpg pool and SQLAlchemy session factory."""

    pool: Any
    sessions: Any


ScrapeCollector = Callable[[ScrapeSources], Awaitable[list[Metric]]]
SCRAPE_COLLECTORS: dict[str, ScrapeCollector] = {}


def register_scrape_collector(name: str, collector: ScrapeCollector) -> None:
    """Add (or replace) a collector run at scrape time, its answer cached per process."""
    SCRAPE_COLLECTORS[name] = collector


async def moderation_workload(sources: ScrapeSources) -> list[Metric]:
    where = ["region", "queue"]
    open_cases = GaugeMetricFamily("vigil_cases_open", "Open cases (OPEN, ASSIGNED, ESCALATED)", labels=where)
    oldest = GaugeMetricFamily("vigil_cases_open_oldest_age_seconds", "Age of the oldest open case", labels=where)
    breached = GaugeMetricFamily("vigil_cases_sla_breached", "Open cases past their SLA due time", labels=where)
    for row in await queue_workload(sources.pool):
        labels = [row.region, row.queue or "(none)"]
        open_cases.add_metric(labels, row.open_cases)
        oldest.add_metric(labels, row.oldest_seconds)
        breached.add_metric(labels, row.sla_breached)
    return [open_cases, oldest, breached]


async def audit_seal_lag(sources: ScrapeSources) -> list[Metric]:
    lag = await seal_lag(sources.pool)
    return [
        GaugeMetricFamily("vigil_audit_unsealed_events", "Audit events committed but not sealed yet", lag.unsealed),
        GaugeMetricFamily(
            "vigil_audit_seal_lag_seconds", "Age of the oldest audit event not sealed yet (0: none)", lag.oldest_seconds
        ),
    ]


async def outbox_backlog(sources: ScrapeSources) -> list[Metric]:
    now = datetime.now(UTC)
    waiting, oldest = await backlog(sources.pool, now)
    pending = GaugeMetricFamily(
        "vigil_webhook_pending_deliveries", "PENDING webhook deliveries per enabled endpoint", labels=["endpoint"]
    )
    pending_age = GaugeMetricFamily(
        "vigil_webhook_oldest_pending_age_seconds",
        "Age of the endpoint's oldest PENDING delivery (0: none)",
        labels=["endpoint"],
    )
    for row in await delivery_backlog(sources.pool, now):
        pending.add_metric([str(row.endpoint_id)], row.pending)
        pending_age.add_metric([str(row.endpoint_id)], row.oldest_seconds)
    return [
        GaugeMetricFamily("vigil_outbox_undispatched_events", "Outbox events not yet fanned out to webhooks", waiting),
        GaugeMetricFamily(
            "vigil_outbox_oldest_undispatched_age_seconds", "Age of the oldest undispatched event (0: none)", oldest
        ),
        pending,
        pending_age,
    ]


async def dsa_statements(sources: ScrapeSources) -> list[Metric]:
    where = ["state", "region"]
    count = GaugeMetricFamily(
        "vigil_dsa_statements", "DSA statements of reasons PENDING, IN_FLIGHT or REJECTED", labels=where
    )
    oldest = GaugeMetricFamily(
        "vigil_dsa_statements_oldest_age_seconds", "Age of the oldest statement in that state", labels=where
    )
    found = {(row.state, row.region): row for row in await statement_states(sources.pool)}
    for state in WATCHED:  # every watched state, 0 when none: an alert's series never vanishes
        for region in sorted({r for _, r in found} | {"EU"}):
            row = found.get((state.value, region))
            count.add_metric([state.value, region], row.statements if row else 0)
            oldest.add_metric([state.value, region], row.oldest_seconds if row else 0)
    return [count, oldest]


async def delayed_rule_actions(sources: ScrapeSources) -> list[Metric]:
    pending = GaugeMetricFamily(
        "vigil_rule_delayed_actions_pending", "Rules' delayed actions waiting to run (PENDING)", labels=["region"]
    )
    found = await pending_by_region(sources.pool)
    for region in sorted({r.value for r in Region} | set(found)):  # every region, at 0 when none waits
        pending.add_metric([region], found.get(region, 0))
    return [pending]


register_scrape_collector("moderation", moderation_workload)
register_scrape_collector("audit", audit_seal_lag)
register_scrape_collector("outbox", outbox_backlog)
register_scrape_collector("dsa", dsa_statements)
register_scrape_collector("delayed_actions", delayed_rule_actions)


@dataclass
class _Cached:
    at: float
    metrics: list[Metric]


@dataclass
class ScrapeCache:
    """Per app: each collector's last answer, refreshed at most once per ``ttl`` seconds (one refresh at a time)."""

    ttl: float
    cached: dict[str, _Cached] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def collect(self, sources: ScrapeSources) -> list[Metric]:
        async with self.lock:
            now = time.monotonic()
            up = GaugeMetricFamily("vigil_scrape_collector_up", "1 if the collector answered", labels=["collector"])
            result: list[Metric] = []
            for name, collector in SCRAPE_COLLECTORS.items():
                entry = self.cached.get(name)
                ok = True
                if entry is None or now - entry.at >= self.ttl:
                    try:
                        entry = _Cached(now, await collector(sources))
                        self.cached[name] = entry
                    except Exception:
                        log.warning("metrics collector %s failed", name, exc_info=True)
                        entry, ok = None, False
                        self.cached.pop(name, None)
                up.add_metric([name], 1 if ok else 0)
                result.extend(entry.metrics if entry is not None else [])
            return [*result, up]


class _Families:
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> list[Metric]:
        return self.metrics


def live_registry() -> CollectorRegistry:
    """This process's registry, or every worker's files summed in multiprocess mode."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def sample_pools(pool: Any, engine: Any) -> None:
    """Connections in use now, per pool (called by the app's sampler, once a second)."""
    if pool is not None:
        POOL_OPEN.labels("fast").set(pool.get_size())
        POOL_IN_USE.labels("fast").set(pool.get_size() - pool.get_idle_size())
    if engine is not None:
        sync_pool = engine.sync_engine.pool
        POOL_OPEN.labels("session").set(sync_pool.checkedout() + sync_pool.checkedin())
        POOL_IN_USE.labels("session").set(sync_pool.checkedout())


async def sample_pools_forever(get_pool: Callable[[], Any], engine: Any, interval: float = 1.0) -> None:
    while True:
        sample_pools(get_pool(), engine)
        await asyncio.sleep(interval)


def authorized(request: Request, token: str | None, production: bool) -> bool:
    """With a token configured, only ``Authorization: Bearer <token>`` (the scheme in any case, as HTTP's
    authentication schemes are: ``bearer``, ``BEARER``); without one, open outside production."""
    if token is None:
        return not production
    scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credentials.strip().encode(), token.encode())


def metrics_endpoint(
    cache: ScrapeCache, sources: Callable[[], ScrapeSources | None], token: str | None, production: bool
) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        if not authorized(request, token, production):
            if token is None:  # production without a token: the endpoint does not exist
                return JSONResponse({"error": "not found"}, status_code=404)
            return JSONResponse({"error": "a valid metrics token is required"}, status_code=401)
        current = sources()
        families = await cache.collect(current) if current is not None else []
        body = generate_latest(live_registry()) + generate_latest(_Families(families))
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics
