"""Running a LIVE rule's actions (issue 22, points 2 and 6): a delayed action is scheduled and counts against no cap
until it runs; an action past the daily cap or the circuit breaker is enqueued for a person, not taken; a SHADOW rule
does neither."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

import pytest

from domain.rules import Delayed, Event, ListIndex, RuleSet, define_rule
from domain.rules.memory import MemoryCounterStore
from domain.rules.ports import EntityFacts
from domain.services.events import Accepted
from domain.services.rule_runs import (
    ActionResult,
    ActiveRule,
    HitRecord,
    LoadedRules,
    Outcome,
    PendingAction,
    run_rules,
)
from domain.services.rules import RuleState, catalogue

T0 = datetime(2026, 12, 6, 9, tzinfo=UTC)
SOURCE = """rule "coins"
on content.posted
in US
policy SPAM
when contains(text, "coins")
then delay(10m, 2h, decide("REMOVE_CONTENT")), decide("REMOVE_CONTENT"), label(account, "coins", 1d)
"""


class Ports:
    def __init__(self, spent: Mapping[str, str]) -> None:
        self.counters = MemoryCounterStore()
        self.spent = spent
        self.calls: list[tuple[str, str, int | str | None]] = []
        self.hits: list[HitRecord] = []

    async def facts(
        self, wanted: Iterable[tuple[str, str, str]], now: datetime
    ) -> Mapping[tuple[str, str, str], EntityFacts]:
        return {}

    async def snoozed(self, wanted: Iterable[tuple[str, str, str]], now: datetime) -> set[tuple[str, ...]]:
        return set()

    async def take(self, pending: Sequence[PendingAction], now: datetime) -> list[ActionResult]:
        self.calls.append(("take", ",".join(type(p.action).__name__ for p in pending), len(pending)))
        results = []
        for p in pending:
            kind = type(p.action).__name__.upper()
            spent = self.spent.get(kind)
            if spent is not None:
                results.append(ActionResult(kind, Outcome.WITHHELD, spent, uuid.uuid4()))
            else:
                results.append(ActionResult(kind, Outcome.TAKEN))
        return results

    async def schedule(
        self, rule: ActiveRule, accepted: Accepted, action: Delayed, position: int, now: datetime
    ) -> ActionResult:
        self.calls.append(("schedule", type(action.action).__name__, position))
        return ActionResult("DECIDE", Outcome.SCHEDULED, "due")

    async def record_hits(self, hits: Sequence[HitRecord], now: datetime) -> None:
        self.hits += hits


def _loaded(state: RuleState) -> LoadedRules:
    known = catalogue({}, frozenset({"SPAM"}))
    compiled = define_rule(SOURCE, known, rule_id="r1", version=2)
    active = ActiveRule(uuid.uuid4(), 2, "US", "coins", state, uuid.uuid4(), 1, None)
    return LoadedRules({"US": RuleSet([compiled], ListIndex(()))}, {"r1": active}, known)


def _event() -> Accepted:
    event = Event("content.posted", "US", {"account": "u-1", "content": "c-1"}, {"text": "free coins"}, T0, "k")
    return Accepted(uuid.uuid4(), event, duplicate=False)


@pytest.mark.parametrize("spent", ["daily cap", "circuit breaker"])
async def test_live_schedules_the_delayed_action_and_enqueues_what_a_valve_withholds(spent: str) -> None:
    ports = Ports({"DECIDE": spent})
    await run_rules(_loaded(RuleState.LIVE), [_event()], ports, T0)
    assert ports.calls == [
        ("schedule", "Decide", 0),  # not taken now: it is counted when it runs
        ("take", "Decide,Label", 2),  # the immediate ones, together (the ports count and enqueue them)
    ]
    [hit] = ports.hits
    assert [(a.outcome, a.reason) for a in hit.actions] == [
        (Outcome.SCHEDULED, "due"),
        (Outcome.WITHHELD, spent),
        (Outcome.TAKEN, None),
    ]
    assert hit.actions[1].case_id is not None
    assert set(hit.actions[1].as_dict()) == {"action", "outcome", "reason", "case_id"}


async def test_shadow_neither_schedules_nor_enqueues() -> None:
    ports = Ports({"DECIDE": "daily cap"})
    await run_rules(_loaded(RuleState.SHADOW), [_event()], ports, T0)
    assert ports.calls == []
    assert [(a.outcome, a.reason) for a in ports.hits[0].actions] == [(Outcome.WITHHELD, "shadow")] * 3
    assert set(ports.hits[0].actions[0].as_dict()) == {"action", "outcome", "reason"}
