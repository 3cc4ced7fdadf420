"""The in-memory counter store: distinct members within a sliding window, idempotent per member."""

from __future__ import annotations

from datetime import timedelta

from domain.rules.memory import MemoryCounterStore
from domain.rules.ports import CounterKey, CounterRecord
from tests.unit.rules.support import NOW


async def test_counts_distinct_members_in_the_window() -> None:
    store = MemoryCounterStore()
    at = [NOW - timedelta(minutes=m) for m in (90, 30, 10, 5)]
    await store.record(
        [
            CounterRecord("reports", "account", "a1", at[0], "e1"),
            CounterRecord("reports", "account", "a1", at[1], "e2"),
            CounterRecord("reports", "account", "a1", at[2], "e3"),
            CounterRecord("reports", "account", "a1", at[2], "e3"),  # a retried event counts once
            CounterRecord("reports", "account", "a2", at[3], "e4"),
            CounterRecord("reporters", "content", "c1", at[1], "u1"),
            CounterRecord("reporters", "content", "c1", at[3], "u1"),  # seen again: still one reporter
        ]
    )
    hour = CounterKey("reports", "account", "a1", 3600)
    day = CounterKey("reports", "account", "a1", 86400)
    reporters = CounterKey("reporters", "content", "c1", 600)
    values = await store.read([hour, day, reporters, CounterKey("reports", "account", "zz", 60)], NOW)
    assert values == {hour: 2, day: 3, reporters: 1, CounterKey("reports", "account", "zz", 60): 0}
    assert (await store.read([hour], NOW - timedelta(minutes=20)))[hour] == 1  # e2 only: e1 is out, e3 not yet in
