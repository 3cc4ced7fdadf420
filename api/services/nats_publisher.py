"""Publishing outbox events to NATS JetStream (on when ``VIGIL_NATS_URL`` is set).

Each event goes to ``<prefix>.<region>.<event type>`` (e.g. ``vigil.EU.decision.made``) with the header
``Nats-Msg-Id`` = the event's id, so JetStream drops a second copy within the stream's duplicate window: an
event published again after a dispatcher died between publishing and recording it is stored once. The events of
a pass are taken ``FOR UPDATE SKIP LOCKED`` and marked published in the same transaction, after every
acknowledgement: a failed publish leaves them for the next pass.
"""

from __future__ import annotations

import asyncio
from typing import Any

import nats
from nats.js.errors import NotFoundError

from api.metrics import NATS_PUBLISHED
from api.services.dispatcher import Publisher, event_body
from domain.clock import Clock, SystemClock
from domain.outbox.events import DomainEvent
from persistence.dispatch import mark_published, unpublished
from persistence.fast.sql import Pool

DUPLICATE_WINDOW_SECONDS = 600.0


def subject_for(prefix: str, event: DomainEvent) -> str:
    return f"{prefix}.{event.region}.{event.type}"


class NatsPublisher(Publisher):
    def __init__(
        self,
        url: str,
        *,
        stream: str = "VIGIL",
        prefix: str = "vigil",
        batch: int = 500,
        timeout: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        self.url, self.stream, self.prefix = url, stream, prefix
        self.batch, self.timeout = batch, timeout
        self.clock: Clock = clock or SystemClock()
        self._nc: Any = None
        self._js: Any = None

    async def jetstream(self) -> Any:
        if self._js is None:
            self._nc = await nats.connect(self.url, connect_timeout=self.timeout, max_reconnect_attempts=-1)
            js = self._nc.jetstream(timeout=self.timeout)
            try:
                await js.stream_info(self.stream)
            except NotFoundError:
                await js.add_stream(
                    name=self.stream, subjects=[f"{self.prefix}.>"], duplicate_window=DUPLICATE_WINDOW_SECONDS
                )
            self._js = js
        return self._js

    async def publish_pending(self, pool: Pool) -> int:
        js = await self.jetstream()
        async with pool.acquire() as conn, conn.transaction():
            events = await unpublished(conn, batch=self.batch)
            if not events:
                return 0
            await asyncio.gather(*(self.publish(js, e) for e in events))
            await mark_published(conn, [e.id for e in events], self.clock.now())
        return len(events)

    async def publish(self, js: Any, event: DomainEvent) -> Any:
        """Publish one event, counted in ``vigil_nats_publish_total`` by outcome (a duplicate: JetStream already
        held this id within its window, so it stored nothing)."""
        headers = {"Nats-Msg-Id": str(event.id)}
        try:
            ack = await js.publish(subject_for(self.prefix, event), event_body(event), headers=headers)
        except Exception:
            NATS_PUBLISHED.labels("failed").inc()
            raise
        NATS_PUBLISHED.labels("duplicate" if getattr(ack, "duplicate", False) else "published").inc()
        return ack

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None:
            await nc.close()
