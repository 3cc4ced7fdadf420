"""`vigil consume`'s loop stores and acknowledges the next batches while the rules run on the previous one, at most
``rules_behind`` of them; the rules then run on those together, in the order they were stored, every batch once and
before the loop stops; a failed evaluation settles none of its batches (no NATS here: a scripted subscription hands
out the batches)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

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


def _batches(count: int, size: int = 3) -> list[list[Message]]:
    return [[Message(f"b{b}-{i}") for i in range(size)] for b in range(count)]


def _names(outcomes: Sequence[Accepted | DomainError]) -> list[str]:
    """The batches whose events ``outcomes`` holds, in order."""
    names: list[str] = []
    for outcome in outcomes:
        assert isinstance(outcome, Accepted)
        name = outcome.event.idempotency_key.split("-")[0]
        if name not in names:
            names.append(name)
    return names


class Log:
    """Appends every event; ``stored`` names the batches stored, in order; ``on_store`` is called after each."""

    stored: list[str] = []
    settled: list[str] = []
    on_store: Callable[[], None] = staticmethod(lambda: None)

    async def append(self, events: Sequence[NewEvent], source_id: str, now: datetime) -> list[Accepted | None]:
        self.name = events[0].event.idempotency_key.split("-")[0]
        Log.stored.append(self.name)
        Log.on_store()
        return [Accepted(e.id, e.event, duplicate=False) for e in events]

    async def settle(self) -> None:
        Log.settled.append(self.name)


@pytest.fixture(autouse=True)
def _fresh_log() -> None:
    Log.stored, Log.settled, Log.on_store = [], [], staticmethod(lambda: None)


async def _consume(batches: list[list[Message]], rules: Callable[..., Awaitable[None]], rules_behind: int = 2) -> None:
    stop = asyncio.Event()
    consumer = EventConsumer("nats://unused", Log, clock=FixedClock(NOW), after_batch=rules, rules_behind=rules_behind)
    consumer._sub = Subscription(batches, stop)
    every = [m for batch in batches for m in batch]
    async with asyncio.timeout(10):  # a consumer that waited for the rules before storing on would never finish
        await consumer.run(stop)
    assert all(m.acked for m in every)


async def test_the_next_batch_is_stored_while_the_rules_run_on_the_previous_one() -> None:
    second_stored = asyncio.Event()
    Log.on_store = staticmethod(lambda: second_stored.set() if len(Log.stored) == 2 else None)
    groups: list[list[str]] = []

    async def rules(outcomes: Sequence[Accepted | DomainError]) -> None:
        groups.append(_names(outcomes))
        if groups[-1][0] == "b0":
            await second_stored.wait()  # only returns if batch b1 is stored while b0's rules run

    await _consume(_batches(3), rules)
    assert Log.stored == ["b0", "b1", "b2"]
    assert [name for group in groups for name in group] == ["b0", "b1", "b2"]  # each once, in order
    assert Log.settled == ["b0", "b1", "b2"]


@pytest.mark.parametrize("behind", [1, 2, 3])
async def test_rules_that_fall_behind_run_on_the_batches_waiting_together_at_most_so_many_behind(behind: int) -> None:
    released = asyncio.Event()
    groups: list[list[str]] = []
    stored_while_blocked: list[int] = []

    async def rules(outcomes: Sequence[Accepted | DomainError]) -> None:
        groups.append(_names(outcomes))
        if len(groups) == 1:
            for _ in range(20):  # every chance to store on: the fetches and stores here never wait
                await asyncio.sleep(0)
            stored_while_blocked.append(len(Log.stored))
            released.set()

    await _consume(_batches(7), rules, rules_behind=behind)
    assert stored_while_blocked == [1 + behind]  # b0 and the batches waiting for the rules, no more
    assert [name for group in groups for name in group] == [f"b{b}" for b in range(7)]
    assert groups[1] == [f"b{b}" for b in range(1, 1 + behind)]
    assert max(len(group) for group in groups) == behind
    assert Log.settled == [f"b{b}" for b in range(7)]


async def test_a_failed_evaluation_leaves_every_batch_of_it_to_the_sweeper() -> None:
    groups: list[list[str]] = []

    async def rules(outcomes: Sequence[Accepted | DomainError]) -> None:
        groups.append(_names(outcomes))
        for _ in range(5):
            await asyncio.sleep(0)
        if "b1" in groups[-1]:
            raise RuntimeError("the rules could not run")

    await _consume(_batches(5), rules)
    failed = next(group for group in groups if "b1" in group)
    assert Log.settled == [f"b{b}" for b in range(5) if f"b{b}" not in failed]
