"""What evaluation reads, through ports: entity facts and counter values.

Evaluation does no I/O. For a batch of events the caller asks the rule set what it needs
(``RuleSet.needs(event)`` -> entities and counter keys), fetches those in as few round trips as it can (facts from
PostgreSQL, counters from Redis or PostgreSQL through a ``CounterStore``), wraps them in a ``FactSource`` (e.g.
``memory.Snapshot``) and calls ``RuleSet.evaluate(event, facts)``, which is pure CPU.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol


@dataclass(frozen=True, slots=True)
class EntityFacts:
    """What is known of one entity when the event is evaluated.

    ``age``: time since the entity was created. ``active_strikes``: strikes in force. ``status``: e.g. ``ACTIVE``,
    ``RESTRICTED``, ``SUSPENDED``, ``BANNED``, ``REMOVED``. ``region``: its data region. ``prior_decisions``: how
    many VIOLATING decisions it has had. ``labels``: the labels in force (unexpired). ``signals``: the latest
    classifier scores submitted for it (``submitSignal``), name -> score.
    """

    age: timedelta = timedelta(0)
    active_strikes: int = 0
    status: str = ""
    region: str = ""
    prior_decisions: int = 0
    labels: frozenset[str] = frozenset()
    signals: Mapping[str, float] = field(default_factory=dict)


class CounterKey(NamedTuple):
    """One counter a rule reads: ``count(reports, account, 1h)`` -> ("reports", "account", <id>, 3600). (A named
    tuple: built per rule evaluation, it must be cheap.)"""

    source: str
    entity_kind: str
    entity_id: str
    window_seconds: int


@dataclass(frozen=True, slots=True)
class CounterRecord:
    """One thing to record in a counter store for an event (``engine.counter_records``): the event hit the entity
    at ``at``. ``member`` is what is counted: the distinct value for a DISTINCT source, the event's idempotency key
    for a COUNT source, so a store always counts distinct members in the window and a retried event never counts
    twice."""

    source: str
    entity_kind: str
    entity_id: str
    at: datetime
    member: str


class FactSource(Protocol):
    """Prefetched facts, read synchronously during evaluation."""

    def entity(self, kind: str, entity_id: str) -> EntityFacts | None:
        """The facts of the entity, or None if unknown (a rule reading them then fails for this event)."""
        ...

    def counter(self, key: CounterKey) -> int:
        """The counter's value at the event's time (0 if never recorded)."""
        ...


class CounterStore(Protocol):
    """Sliding-window counters per entity (Redis when ``VIGIL_REDIS_URL`` is set, PostgreSQL otherwise).

    A counter is the number of distinct ``member`` values recorded for (source, entity kind, entity id) with
    ``now - window < at <= now`` (a member recorded twice counts once, at its latest ``at``). ``read`` answers
    every key in one round trip where the backend allows.
    """

    async def record(self, records: Iterable[CounterRecord]) -> None: ...

    async def read(self, keys: Iterable[CounterKey], now: datetime) -> Mapping[CounterKey, int]: ...
