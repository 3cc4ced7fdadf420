"""Backtests: a rule version (any state) run over the stored events of a period, as a job, and what it would have
done. Nothing is acted on and no live hit is recorded: the hits go to the job.

The job reads the region's events in keyset chunks ordered by (occurred_at, id). Counters are replayed: each
event's counter records go into a counter store held by the runner before the event is evaluated, so a rule's
``count(...)`` reads what it would have read then. A runner that resumes a job (after a crash or on another
process) first replays the counter records of the longest window before the cursor, so a resumed job finds what
an uninterrupted one would have. Facts (entity age, status, labels) are read as they are at each chunk's latest
event time: labels and statuses are today's, the one approximation of a backtest.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from domain.errors import DomainError
from domain.rules import Catalogue, RuleSet, counter_records
from domain.rules.compiler import CompiledRule
from domain.rules.event import Event
from domain.rules.memory import MemoryCounterStore, Snapshot
from domain.rules.ports import EntityFacts
from domain.services.rule_runs import action_kind

MAX_PERIOD: Final = timedelta(days=92)
CHUNK: Final = 500
LEASE: Final = timedelta(seconds=60)
SAMPLE: Final = 20
"""Hits a finished backtest shows (chosen by the hash of their event id, not the first ones)."""


def check_period(start: datetime, end: datetime, now: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise DomainError.invalid_input("times carry a UTC offset", "period")
    if not start < end or end - start > MAX_PERIOD:
        raise DomainError.invalid_input("a backtest period starts before it ends and spans at most 92 days", "period")
    if start > now:
        raise DomainError.invalid_input("a backtest runs over the past", "period")


@dataclass(frozen=True)
class StoredEvent:
    id: uuid.UUID
    event: Event


@dataclass(frozen=True)
class BacktestHit:
    event_id: uuid.UUID
    occurred_at: datetime
    subject: tuple[str, str] | None
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Compiled:
    """The version under test, alone in its rule set, with what its counters need."""

    rule: CompiledRule
    ruleset: RuleSet
    catalogue: Catalogue

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(spec.source for spec in self.rule.counters)

    @property
    def longest_window(self) -> timedelta:
        return timedelta(seconds=max((spec.window_seconds for spec in self.rule.counters), default=0))


class ReplayCounters(MemoryCounterStore):
    """The counters a backtest replays, forgetting what no window can reach any more (``prune``): a run over
    months holds the members of its longest window, not of the whole period."""

    def prune(self, before: datetime) -> None:
        for key in list(self._members):
            members = {m: at for m, at in self._members[key].items() if at >= before}
            if members:
                self._members[key] = members
            else:
                del self._members[key]

    def __len__(self) -> int:
        return sum(len(m) for m in self._members.values())


async def replay_counters(compiled: Compiled, events: Sequence[StoredEvent], store: MemoryCounterStore) -> None:
    """Record the events' counter records that the rule reads (the warm-up before a resumed cursor)."""
    sources = compiled.sources
    if sources:
        await store.record(
            r for e in events for r in counter_records(compiled.catalogue, e.event) if r.source in sources
        )


async def evaluate_chunk(
    compiled: Compiled,
    events: Sequence[StoredEvent],
    facts: dict[tuple[str, str], EntityFacts],
    store: MemoryCounterStore,
) -> tuple[list[BacktestHit], int]:
    """Evaluate the chunk's events in order (each counted before it is evaluated); the hits and the failures."""
    hits: list[BacktestHit] = []
    failures = 0
    for stored in events:
        event = stored.event
        await replay_counters(compiled, [stored], store)
        needs = compiled.ruleset.needs(event)
        counters = await store.read(needs.counters, event.occurred_at) if needs.counters else {}
        evaluation = compiled.ruleset.evaluate(event, Snapshot(facts, counters))
        failures += len(evaluation.failures)
        for hit in evaluation.hits:
            actions = tuple(action_kind(a) for a in hit.actions)
            hits.append(BacktestHit(stored.id, event.occurred_at, event.subject, actions))
    return hits, failures
