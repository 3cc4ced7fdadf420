"""domain.services.backtests: a chunk's events counted before each is evaluated, in order; pruning the replayed
counters behind the longest window changes no result; periods are checked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from domain.errors import DomainError
from domain.rules import ListIndex, RuleSet, define_rule
from domain.rules.event import Event
from domain.services.backtests import Compiled, ReplayCounters, StoredEvent, check_period, evaluate_chunk
from domain.services.rules import catalogue

T0 = datetime(2026, 12, 1, tzinfo=UTC)
SOURCE = 'rule "burst"\non content.posted\nin EU\npolicy SPAM\nwhen count(posts, account, 1h) >= 3\nthen hold()\n'


def posts(minutes: list[int], account: str = "a") -> list[StoredEvent]:
    return [
        StoredEvent(
            uuid.UUID(int=i + 1),
            Event(
                "content.posted",
                "EU",
                MappingProxyType({"account": account, "content": f"c{i}"}),
                MappingProxyType({"text": "x"}),
                T0 + timedelta(minutes=m),
                f"k{i}",
            ),
        )
        for i, m in enumerate(minutes)
    ]


def compiled() -> Compiled:
    known = catalogue({}, frozenset({"SPAM"}), frozenset())
    rule = define_rule(SOURCE, known, rule_id="r", version=1)
    return Compiled(rule, RuleSet([rule], ListIndex([])), known)


async def test_each_event_sees_the_counters_of_its_own_time_chunk_after_chunk() -> None:
    minutes = [0, 10, 20, 30, 200, 210, 220, 400]
    events = posts(minutes)
    whole, _ = await evaluate_chunk(compiled(), events, {}, ReplayCounters())
    store = ReplayCounters()
    pieces = []
    for at in range(0, len(events), 3):
        store.prune(events[at].event.occurred_at - timedelta(hours=1))
        found, _ = await evaluate_chunk(compiled(), events[at : at + 3], {}, store)
        pieces += found
    assert [h.occurred_at for h in whole] == [T0 + timedelta(minutes=m) for m in (20, 30, 220)]
    assert pieces == whole
    assert len(store) == 8  # the last chunk kept the four posts from 160 min on (each for its account and content)
    store.prune(T0 + timedelta(minutes=340))
    assert len(store) == 2  # the last post alone


def test_a_period_is_in_the_past_ordered_and_bounded() -> None:
    now = T0
    check_period(now - timedelta(days=7), now, now)
    for start, end in (
        (now, now - timedelta(days=1)),
        (now - timedelta(days=93), now),
        (now + timedelta(days=1), now + timedelta(days=2)),
        (datetime(2026, 11, 1), datetime(2026, 11, 2)),  # no offset: refused
    ):
        with pytest.raises(DomainError) as refused:
            check_period(start, end, now)
        assert refused.value.field == "period"
