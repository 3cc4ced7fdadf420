"""The rule set: compiled rules indexed by event type and region, evaluated in process over one event at a time.

STUB: interface only; implementation follows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from domain.rules.actions import Action
from domain.rules.catalogue import Catalogue
from domain.rules.compiler import CompiledRule
from domain.rules.event import Event
from domain.rules.lists import ListIndex
from domain.rules.ports import CounterKey, CounterRecord, FactSource

DEFAULT_BUDGET_NS = 2_000_000
"""CPU budget of one rule's evaluation on one event (2 ms)."""
DEFAULT_MAX_OVERRUNS = 3
"""Overruns after which a rule is disabled in its rule set."""


@dataclass(frozen=True, slots=True)
class Hit:
    rule_id: str
    version: int
    name: str
    policy: str
    actions: tuple[Action, ...]


class FailureCode(StrEnum):
    OVER_BUDGET = "OVER_BUDGET"
    """The rule ran past its CPU budget: its result is discarded (skipped)."""
    DISABLED = "DISABLED"
    """The rule overran its budget too often and is disabled in this rule set (reported once, when it happens)."""
    RUNTIME_ERROR = "RUNTIME_ERROR"
    """The event lacked what the rule reads (an entity, its facts, an attribute of the declared type)."""


@dataclass(frozen=True, slots=True)
class Failure:
    rule_id: str
    version: int
    code: FailureCode
    message: str
    elapsed_ns: int = 0


@dataclass(frozen=True, slots=True)
class Evaluation:
    hits: tuple[Hit, ...]
    failures: tuple[Failure, ...]
    evaluated: int
    """Rules whose event types and region matched the event (including those skipped, out of rollout or failing)."""


@dataclass(frozen=True, slots=True)
class Needs:
    """What to prefetch before evaluating an event: the facts of these entities and these counters."""

    entities: frozenset[tuple[str, str]]
    counters: frozenset[CounterKey]


class RuleSet:
    """Compiled rules bound to a list index. ``evaluate`` is pure CPU and never raises for a rule's failure: it is
    reported in ``Evaluation.failures``. The clock (nanoseconds) is injectable for tests."""

    def __init__(
        self,
        rules: Iterable[CompiledRule],
        lists: ListIndex,
        *,
        budget_ns: int = DEFAULT_BUDGET_NS,
        max_overruns: int = DEFAULT_MAX_OVERRUNS,
        clock: Callable[[], int] = time.perf_counter_ns,
    ) -> None:
        raise NotImplementedError

    def needs(self, event: Event) -> Needs:
        raise NotImplementedError

    def evaluate(self, event: Event, facts: FactSource) -> Evaluation:
        raise NotImplementedError

    @property
    def disabled(self) -> frozenset[str]:
        """Ids of rules disabled in this rule set for overrunning their budget."""
        raise NotImplementedError


def counter_records(catalogue: Catalogue, event: Event) -> list[CounterRecord]:
    """What to record in the counter store for this event (every counter source of its type, for every entity
    kind it carries). Record before ``needs``/``evaluate`` so a rule's counters include the event itself."""
    raise NotImplementedError
