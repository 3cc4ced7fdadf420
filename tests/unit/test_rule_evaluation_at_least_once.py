"""The rules' evaluation in a request is shielded from the request's cancellation (its timeout) and awaited by the
process's stop; `vigil consume` deletes a batch's backlog note only once the rules ran on it (no database here:
scripted evaluations and logs)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from api.services import rule_backlog
from api.services.events_consumer import EventConsumer
from domain.clock import FixedClock
from domain.errors import DomainError
from domain.services.events import Accepted, NewEvent
from tests.unit.test_events_consumer_pipeline import Message

NOW = datetime(2026, 12, 6, 9, tzinfo=UTC)


async def test_a_cancelled_request_leaves_its_evaluation_running_until_the_stop_awaits_it() -> None:
    release = asyncio.Event()
    journal: list[str] = []

    async def evaluation() -> str:
        journal.append("started")
        await release.wait()
        journal.append("finished")
        return "hits"

    request = asyncio.create_task(rule_backlog.run_shielded(evaluation()))
    await asyncio.sleep(0)  # the request reaches its await on the shielded evaluation
    await asyncio.sleep(0)
    request.cancel()  # what the request's timeout does
    with pytest.raises(asyncio.CancelledError):
        await request
    assert journal == ["started"]
    assert rule_backlog.in_flight() == 1  # the evaluation goes on, kept for the stop

    stopping = asyncio.create_task(rule_backlog.drain())
    await asyncio.sleep(0)
    assert not stopping.done()  # the stop waits for it
    release.set()
    assert await stopping == 0
    assert journal == ["started", "finished"]
    assert rule_backlog.in_flight() == 0


async def test_the_stop_waits_a_bounded_time() -> None:
    never = asyncio.Event()
    request = asyncio.create_task(rule_backlog.run_shielded(never.wait()))
    await asyncio.sleep(0)
    assert await rule_backlog.drain(within=0) == 1  # still running: its backlog row stays for the sweeper
    request.cancel()
    never.set()
    await rule_backlog.drain()
    assert rule_backlog.in_flight() == 0


class _Log:
    """An event log that noted its batch in the backlog (``settle`` deletes the note)."""

    settled: list[str] = []

    async def append(self, events: Sequence[NewEvent], source_id: str, now: datetime) -> list[Accepted | None]:
        self.key = events[0].event.idempotency_key
        return [Accepted(e.id, e.event, duplicate=False) for e in events]

    async def settle(self) -> None:
        _Log.settled.append(self.key)


@pytest.mark.parametrize("fails", [False, True])
async def test_a_consumed_batch_keeps_its_backlog_note_until_the_rules_ran(fails: bool) -> None:
    _Log.settled = []

    async def rules(outcomes: Sequence[Accepted | DomainError]) -> None:
        if fails:
            raise RuntimeError("the rules could not run")

    consumer = EventConsumer("nats://unused", _Log, clock=FixedClock(NOW), after_batch=rules)
    await consumer.process([Message("b0-0"), Message("b0-1")])
    assert _Log.settled == ([] if fails else ["b0-0"])
