"""`vigil consume`'s loop stores and acknowledges the next batch while the rules run on the previous one, and still
runs the rules one batch at a time, in order, every batch's before it stops (no NATS here: a scripted
subscription hands out the batches)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace

from api.services.events_consumer import EventConsumer
from domain.clock import FixedClock
from domain.errors import DomainError
from domain.services.events import Accepted, NewEvent

NOW = datetime(2026, 12, 6, 9, tzinfo=UTC)


class Message:
    def __init__(self, key: str) -> None:
        body = {"type": "account.login", "region": "US", "entities": {"account": "u-1"}, "attributes": {},
                "occurredAt": NOW.isoformat(), "idempotencyKey": key}  # fmt: skip
        self.data = json.dumps(body).encode()
        self.headers = None
        self.metadata = SimpleNamespace(sequence=SimpleNamespace(stream=1))
        self.acked = False

    async def ack(self) -> None:
        self.acked = True

    async def term(self) -> None:
        raise AssertionError("no message here is refused")

    async def nak(self) -> None:
        raise AssertionError("every batch here is stored")


class Subscription:
    """Hands out the batches, then sets ``stop`` and answers that nothing came."""

    def __init__(self, batches: list[list[Message]], stop: asyncio.Event) -> None:
        self.batches, self.stop = batches, stop

    async def fetch(self, batch: int, timeout: float) -> list[Message]:  # noqa: ASYNC109 (nats-py's signature)
        if self.batches:
            return self.batches.pop(0)
        self.stop.set()
        raise TimeoutError


async def test_the_next_batch_is_stored_while_the_rules_run_on_the_previous_one() -> None:
    stop = asyncio.Event()
    batches = [[Message(f"b{b}-{i}") for i in range(3)] for b in range(3)]
    stored: list[str] = []
    journal: list[str] = []
    second_stored = asyncio.Event()

    class Log:
        async def append(self, events: Sequence[NewEvent], source_id: str, now: datetime) -> list[Accepted | None]:
            stored.append(events[0].event.idempotency_key.split("-")[0])
            if len(stored) == 2:
                second_stored.set()
            return [Accepted(e.id, e.event, duplicate=False) for e in events]

    async def rules(outcomes: Sequence[Accepted | DomainError]) -> None:
        batch = next(o for o in outcomes if isinstance(o, Accepted)).event.idempotency_key.split("-")[0]
        journal.append(f"start {batch}")
        if batch == "b0":
            await second_stored.wait()  # only returns if batch b1 is stored while b0's rules run
        journal.append(f"end {batch}")

    consumer = EventConsumer("nats://unused", Log, clock=FixedClock(NOW), after_batch=rules)
    every = [m for batch in batches for m in batch]
    consumer._sub = Subscription(batches, stop)
    async with asyncio.timeout(10):  # a consumer that waited for b0's rules before storing b1 would never finish
        await consumer.run(stop)
    assert stored == ["b0", "b1", "b2"]
    assert journal == ["start b0", "end b0", "start b1", "end b1", "start b2", "end b2"]
    assert all(m.acked for m in every)
    assert consumer.stats.stored == 9
