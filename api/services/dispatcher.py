"""The dispatcher: carries outbox events to webhook endpoints (signed, Standard Webhooks) and to NATS JetStream.

``Dispatcher.run_once()`` is one pass: fan new events out to the endpoints that want them, publish new events to
NATS (when configured), lease the deliveries that are due and send them, waiting for all of them; tests drive it
directly. ``run()`` loops until stopped, as a task in ``vigil serve`` (unless ``VIGIL_DISPATCHER=off``) or alone
as ``vigil dispatch``; there it does not wait for a slow endpoint: each leased delivery is its own task, an
endpoint with sends in flight is skipped by the next lease (at most ``per_endpoint`` at once per dispatcher), and
every send has a timeout, so a slow or dead endpoint holds up only its own deliveries, never intake (which never
waits for the dispatcher) nor other endpoints.

Delivery is at least once: a dispatcher killed after sending and before recording leaves a lease that expires,
and the delivery is sent again with the same ``webhook-id`` (receivers deduplicate by it).

Every send resolves the endpoint's host again and checks every address (``domain.outbox.webhook_address``), then
connects only to those (``api.services.webhook_transport``): a name that has come to point inside the operator's
networks is a failed attempt (``refused: ...``), retried on the usual schedule, and nothing is sent.
``allow_internal`` (outside production) accepts any address, for local receivers. A failed attempt logs one WARNING
line (endpoint, status or error, attempt, next try; never the payload).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import ssl
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from api import tracing
from api.metrics import WEBHOOK_DELIVERIES
from api.services.webhook_transport import SystemResolver, pinned, pinned_client
from domain.clock import Clock, SystemClock
from domain.errors import DomainError
from domain.outbox.events import DomainEvent
from domain.outbox.webhook import JITTER, DeliveryState
from domain.outbox.webhook_address import Resolver, checked_addresses, parse_url
from persistence.availability import database_unavailable
from persistence.dispatch import FAN_OUT_BATCH, Lease, Outcome, fan_out, lease_due, outcome, record_all
from persistence.fast.sql import Pool

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("vigil.dispatch")

USER_AGENT = "Vigil-Webhooks/1"
ERROR_MAX = 200
# Delivery outcomes of this process, by outcome: what /metrics exposes (``delivery_outcomes()``).
OUTCOMES: Counter[str] = Counter()


def delivery_outcomes() -> dict[str, int]:
    """Webhook delivery attempts of this process by outcome (``delivered``, ``failed``, ``dead``), for metrics."""
    return dict(OUTCOMES)


def event_body(event: DomainEvent) -> bytes:
    """The JSON every receiver gets (webhooks and NATS alike)."""
    document = {
        "id": str(event.id),
        "type": event.type,
        "version": event.version,
        "timestamp": event.occurred_at.isoformat(timespec="microseconds"),
        "region": event.region,
        "subject": {"kind": event.subject_kind, "id": str(event.subject_id)},
        "data": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class PassResult:
    fanned_out: int = 0
    published: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


class Publisher:
    """Where events go besides webhooks (NATS JetStream): ``publish_pending`` publishes what is not yet."""

    async def publish_pending(self, pool: Pool) -> int:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class Dispatcher:
    def __init__(
        self,
        pool: Pool,
        *,
        resolver: Resolver | None = None,
        allow_internal: bool = False,
        verify: ssl.SSLContext | bool = True,
        publisher: Publisher | None = None,
        clock: Clock | None = None,
        timeout: float = 10.0,
        batch: int = 100,
        per_endpoint: int = 16,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self.pool = pool
        self.timeout = timeout
        self._verify = verify
        self._http: httpx.AsyncClient | None = None
        self.resolver: Resolver = resolver or SystemResolver()
        self.strict = not allow_internal
        self.publisher = publisher
        self.clock: Clock = clock or SystemClock()
        self.batch = batch
        self.per_endpoint = per_endpoint
        # A lease outlives every send of a batch for one endpoint (they run at once, each within the timeout).
        self.lease_time = timedelta(seconds=2 * timeout + 5)
        self.jitter = jitter or (lambda: random.uniform(*JITTER))  # noqa: S311 (spreading retries, not secrets)
        self._busy: Counter[uuid.UUID] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()  # a send finished: its endpoint may have more due at once
        self._outcomes: list[Outcome] = []  # sent, not recorded yet (their leases still hold them)

    @property
    def http(self) -> httpx.AsyncClient:
        """The HTTP client, made for the first send: httpx and a TLS context (~0.2 s of CPU) are not part of a
        start, nor of a dispatcher that finds nothing to send."""
        if self._http is None:
            self._http = pinned_client(self.timeout, self._verify)
        return self._http

    # -- one pass ----------------------------------------------------------------------------------------
    async def run_once(self) -> PassResult:
        """Fan out, publish, lease what is due and send it all, waiting for every send (traced as a tick when
        there was something to do: ``api.tracing.background_tick``)."""
        result = PassResult()
        with tracing.background_tick("dispatcher") as tick:
            result.fanned_out = await self.fan_out()
            if self.publisher is not None:
                result.published = await self.publisher.publish_pending(self.pool)
            leases = await self.lease()
            if result.fanned_out or result.published or leases:
                tick.busy()
            outcomes = await asyncio.gather(*(self.deliver(lease) for lease in leases))
            await self.record()
        result.outcomes.update(outcomes)
        return result

    async def fan_out(self) -> int:
        total = 0
        while True:
            async with self.pool.acquire() as conn:
                events, _ = await fan_out(conn, self.clock.now())
            total += events
            if events < FAN_OUT_BATCH:
                return total

    async def lease(self) -> list[Lease]:
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            return await lease_due(
                conn,
                now,
                now + self.lease_time,
                batch=self.batch,
                per_endpoint=self.per_endpoint,
                busy=list(self._busy),
            )

    async def deliver(self, lease: Lease) -> str:
        """Send one leased delivery; its outcome (``delivered``, ``failed``: tried again later, or ``dead``) is
        recorded by the next ``record`` (one statement for all the outcomes since the last one)."""
        status, error = await self.send(lease)
        result = outcome(lease, self.clock.now(), status=status, error=error, jitter=self.jitter())
        self._outcomes.append(result)
        name = {"DELIVERED": "delivered", "DEAD": "dead"}.get(result.state.value, "failed")
        if result.state is not DeliveryState.DELIVERED:
            log.warning(
                "webhook delivery failed",
                extra={
                    "endpoint_id": str(lease.endpoint.id),
                    "delivery_id": str(lease.delivery_id),
                    "status": status,
                    "error": error,
                    "attempt": lease.attempts,
                    "next_attempt_at": result.next_attempt_at.isoformat() if name == "failed" else None,
                    "dead": name == "dead",
                },
            )
        OUTCOMES[name] += 1
        WEBHOOK_DELIVERIES.labels(name).inc()  # summed across worker processes by /metrics
        return name

    async def record(self) -> None:
        outcomes, self._outcomes = self._outcomes, []
        if not outcomes:
            return
        try:
            async with self.pool.acquire() as conn:
                await record_all(conn, outcomes, self.clock.now())
        except BaseException:
            self._outcomes = outcomes + self._outcomes  # recorded at the next pass (their leases still hold)
            raise

    async def send(self, lease: Lease) -> tuple[int | None, str | None]:
        import httpx

        body = event_body(lease.event)
        now = self.clock.now()
        message_id = str(lease.event.id)
        timestamp = int(now.timestamp())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": lease.endpoint.signature_header(message_id, timestamp, body, now),
        }
        try:
            # The whole exchange within the timeout (httpx's own limits are per phase: a server dripping bytes
            # would outlast them), and the response body is never read.
            async with asyncio.timeout(self.timeout):
                target = parse_url(lease.endpoint.url, strict=self.strict)
                addresses = await checked_addresses(target, self.resolver, strict=self.strict)
                with pinned(target.host, addresses):
                    request = self.http.stream("POST", target.url, content=body, headers=headers)
                    async with request as response:
                        status = response.status_code
        except DomainError as exc:
            return None, f"refused: {exc.message}"[:ERROR_MAX]
        except (TimeoutError, httpx.TimeoutException):
            return None, "timeout"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return None, f"{type(exc).__name__}"[:ERROR_MAX]
        return status, None if 200 <= status < 300 else f"HTTP {status}"

    # -- the loop ----------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, *, interval: float = 0.5) -> None:
        """Pass after pass until ``stop`` is set; sends run as tasks, a failing pass is logged and retried."""
        waiting_for_database = False
        try:
            while not stop.is_set():
                try:
                    await self._tick()
                    if waiting_for_database:
                        waiting_for_database = False
                        log.info("dispatching resumed: the database is back")
                except Exception as exc:
                    if not database_unavailable(exc):
                        log.exception("dispatching failed; retrying at the next tick")
                    elif not waiting_for_database:
                        waiting_for_database = True
                        log.warning("dispatching paused: the database is unavailable")
                await self._pause(stop, interval)
        finally:
            await self.close()

    async def _pause(self, stop: asyncio.Event, interval: float) -> None:
        """Until the interval is over, a send finishes (its endpoint may have more due) or ``stop`` is set."""
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            self._wake.clear()

    async def _tick(self) -> None:
        """One pass of the loop; a root span only when it had something to record, fan out, publish or send."""
        with tracing.background_tick("dispatcher") as tick:
            if self._outcomes:
                tick.busy()
            await self.record()
            if await self.fan_out():
                tick.busy()
            if self.publisher is not None:
                try:  # a broker outage holds up publishing only, never the webhooks
                    if await self.publisher.publish_pending(self.pool):
                        tick.busy()
                except Exception:
                    tick.busy()
                    log.warning("publishing to NATS failed; retrying at the next tick", exc_info=True)
            leases = await self.lease()
            if leases:
                tick.busy()
            for lease in leases:
                self._spawn(lease)

    def _spawn(self, lease: Lease) -> None:
        endpoint = lease.endpoint.id
        self._busy[endpoint] += 1

        async def send() -> None:
            try:
                await self.deliver(lease)
            except Exception:
                log.exception("a webhook delivery failed unexpectedly; its lease expires and it is retried")
            finally:
                self._busy[endpoint] -= 1
                if self._busy[endpoint] <= 0:
                    del self._busy[endpoint]
                    self._wake.set()

        task = asyncio.create_task(send(), name="vigil-webhook-delivery")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):  # what was sent is recorded; else its lease expires and it is resent
            await self.record()
        if self.publisher is not None:
            await self.publisher.close()
        if self._http is not None:
            await self._http.aclose()


def from_settings(pool: Pool, settings: Any) -> Dispatcher:
    """The dispatcher ``vigil serve`` and ``vigil dispatch`` run: webhooks, and NATS when ``VIGIL_NATS_URL`` is set."""
    publisher: Publisher | None = None
    if settings.nats_url:
        from api.services.nats_publisher import NatsPublisher

        publisher = NatsPublisher(settings.nats_url)
    return Dispatcher(
        pool, publisher=publisher, timeout=settings.webhook_timeout, allow_internal=not settings.production
    )
