"""The rule set: compiled rules indexed by (event type, region), evaluated in process over one event at a time.

Region wall: a rule is indexed only under its own regions, so it never runs on (never sees) an event of another
region. Rollout: a rule with ``rollout p%`` runs on an event only if a stable hash (BLAKE2b) of (rule id, entity
id) falls in the first p% of the hash space.

CPU budget: each rule's evaluation is timed with a cheap wall clock (``perf_counter_ns``, ~0.1 us). A rule whose
wall time exceeds the budget is run again on the same event, timed by the thread's CPU clock (``thread_time_ns``,
~1 us, too dear to read around every rule): the wall clock also counts the time the OS gave other processes, and
the re-run excludes the shared per-field work (normalisation, automaton and RE2-set scans, all linear in the text
and cached by the first run), so only the rule's own CPU is charged. If the re-run is over budget too, the result
is discarded, the rule is reported ``OVER_BUDGET`` and, after ``max_overruns`` overruns, disabled in this rule set
(reported ``DISABLED`` once). Both clocks are injectable for tests. Every construct of the language is linear in
its input (no loops, RE2, Aho-Corasick, hash lookups), so the budget is a backstop against a costly rule (a large
regex set, many conditions), not the only bound.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import re2

from domain.rules.actions import Action
from domain.rules.catalogue import Catalogue, CounterKind, ListKind
from domain.rules.compiler import CompiledRule, CounterSpec, bind_condition
from domain.rules.context import Context, RuleRuntimeError
from domain.rules.errors import RuleDefinitionError, RuleErrorCode
from domain.rules.event import Event
from domain.rules.lists import ListIndex
from domain.rules.ports import CounterKey, CounterRecord, FactSource

DEFAULT_BUDGET_NS = 2_000_000
"""CPU budget of one rule's evaluation on one event (2 ms)."""
DEFAULT_MAX_OVERRUNS = 3
"""Overruns after which a rule is disabled in its rule set."""
DEFAULT_REGEX_MEMORY = 64 << 20
"""RE2's memory for the set of a rule set's regexes over one field."""
_HASH_SPACE = 1 << 64


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
    """The event lacked what the rule reads (an entity, its facts) or carried an attribute of another type."""


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
    """Enabled rules whose event types and region matched the event (including those out of rollout, failing or
    over budget)."""


@dataclass(frozen=True, slots=True)
class Needs:
    """What to prefetch before evaluating an event: the facts of these entities and these counters."""

    entities: frozenset[tuple[str, str]]
    counters: frozenset[CounterKey]


_NOTHING = Evaluation((), (), 0)
_NO_NEEDS = Needs(frozenset(), frozenset())


def rollout_position(rule_id: str, entity_id: str) -> int:
    """Where (rule, entity) falls in the hash space [0, 2**64): stable across processes and versions."""
    digest = hashlib.blake2b(f"{rule_id}\x00{entity_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class _Slot:
    __slots__ = ("condition", "disabled", "hit", "overruns", "rule", "threshold")

    def __init__(self, rule: CompiledRule, condition: Callable[[Context], bool]) -> None:
        self.rule = rule
        self.condition = condition
        self.hit = Hit(rule.rule_id, rule.version, rule.name, rule.policy, rule.actions)
        self.threshold = None if rule.rollout_percent >= 100 else int(rule.rollout_percent / 100 * _HASH_SPACE)
        self.overruns = 0
        self.disabled = False


@dataclass(frozen=True)
class _Bucket:
    slots: tuple[_Slot, ...]
    entity_kinds: frozenset[str]
    subject: bool
    counters: frozenset[CounterSpec]
    plain: tuple[tuple[Callable[[Context], bool], Hit], ...] | None
    """Each slot's condition and hit, when no slot of the bucket has a rollout (the loop that needs nothing else)."""


class _Binder:
    def __init__(self, lists: ListIndex, regex_memory: int) -> None:
        self.lists = lists
        self.regex_memory = regex_memory
        self.groups: dict[str, dict[str, int]] = {}
        self.group_index: dict[str, int] = {}

    def list_bit(self, name: str, kind: ListKind) -> int:
        bit = self.lists.bit(name, kind)
        if bit is None:
            raise RuleDefinitionError(RuleErrorCode.UNKNOWN_LIST, f"the rule set has no {kind.value} list {name!r}")
        return bit

    def regex_slot(self, key: str, pattern: str) -> tuple[int, int]:
        group = self.groups.setdefault(key, {})
        index = group.setdefault(pattern, len(group))
        return self.group_index.setdefault(key, len(self.group_index)), index

    def regex_sets(self) -> list[re2.Set]:
        options = re2.Options()
        options.log_errors = False
        options.max_mem = self.regex_memory
        compiled: list[re2.Set] = [None] * len(self.group_index)
        for key, patterns in self.groups.items():
            regex_set = re2.Set.SearchSet(options)
            for pattern in patterns:
                regex_set.Add(pattern)
            try:
                regex_set.Compile()
            except re2.error:
                raise RuleDefinitionError(
                    RuleErrorCode.TOO_LARGE,
                    f"the {len(patterns)} regular expressions of the rule set over {key} need more memory than a"
                    " rule set allows",
                ) from None
            compiled[self.group_index[key]] = regex_set
        return compiled


class RuleSet:
    """Compiled rules bound to a list index. ``evaluate`` is pure CPU and never raises for a rule's failure: it is
    reported in ``Evaluation.failures``. The clock (nanoseconds) is injectable for tests.

    Raises ``RuleDefinitionError`` (UNKNOWN_LIST) if a rule reads a list the index lacks."""

    def __init__(
        self,
        rules: Iterable[CompiledRule],
        lists: ListIndex,
        *,
        budget_ns: int = DEFAULT_BUDGET_NS,
        max_overruns: int = DEFAULT_MAX_OVERRUNS,
        clock: Callable[[], int] = time.perf_counter_ns,
        cpu_clock: Callable[[], int] = time.thread_time_ns,
        regex_memory: int = DEFAULT_REGEX_MEMORY,
    ) -> None:
        self._lists = lists
        self._budget_ns = budget_ns
        self._max_overruns = max_overruns
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._disabled_any = False  # once a rule is disabled, every bucket takes the loop that skips it
        binder = _Binder(lists, regex_memory)
        slots = [_Slot(rule, bind_condition(rule, binder)) for rule in rules]
        self._regex_sets = binder.regex_sets()
        self.rules = tuple(slot.rule for slot in slots)
        grouped: dict[tuple[str, str], list[_Slot]] = {}
        for slot in slots:
            for event_type in sorted(slot.rule.event_types):
                for region in sorted(slot.rule.regions):
                    grouped.setdefault((event_type, region), []).append(slot)
        self._index = {key: self._bucket(members) for key, members in grouped.items()}

    @staticmethod
    def _bucket(slots: list[_Slot]) -> _Bucket:
        kinds: set[str] = set()
        counters: set[CounterSpec] = set()
        subject = False
        for slot in slots:
            kinds |= slot.rule.entities
            counters |= slot.rule.counters
            subject = subject or slot.rule.reads_subject_signals
        plain = (
            None if any(slot.threshold is not None for slot in slots) else tuple((s.condition, s.hit) for s in slots)
        )
        return _Bucket(tuple(slots), frozenset(kinds), subject, frozenset(counters), plain)

    @property
    def disabled(self) -> frozenset[str]:
        """Ids of rules disabled in this rule set for overrunning their budget."""
        return frozenset(s.rule.rule_id for b in self._index.values() for s in b.slots if s.disabled)

    def needs(self, event: Event) -> Needs:
        """The entities (kind, id) whose facts and the counters the rules matching the event read."""
        bucket = self._index.get((event.type, event.region))
        if bucket is None:
            return _NO_NEEDS
        entities = {(kind, event.entities[kind]) for kind in bucket.entity_kinds if kind in event.entities}
        if bucket.subject and event.subject is not None:
            entities.add(event.subject)
        counters = {
            CounterKey(spec.source, spec.entity_kind, event.entities[spec.entity_kind], spec.window_seconds)
            for spec in bucket.counters
            if spec.entity_kind in event.entities
        }
        return Needs(frozenset(entities), frozenset(counters))

    def evaluate(self, event: Event, facts: FactSource) -> Evaluation:
        """The matching rules run on the event. When the whole run stays within one rule's budget (nearly always:
        a bucket of rules takes microseconds, the budget is milliseconds), no rule can have overrun it and nothing
        more is read; otherwise the rules run again one by one, each timed (``_timed``) and charged as it must be.
        A condition is a pure function of the event and the facts, so the second run answers as the first."""
        bucket = self._index.get((event.type, event.region))
        if bucket is None:
            return _NOTHING
        context = Context(event, facts, self._lists, self._regex_sets)
        clock = self._clock
        started = clock()
        plain = bucket.plain
        result = _plain_run(plain, context) if plain is not None and not self._disabled_any else None
        if result is None:
            result = self._run(bucket, event, context)
        if clock() - started <= self._budget_ns:
            return result
        return self._timed(bucket, event, context)

    def _run(self, bucket: _Bucket, event: Event, context: Context) -> Evaluation:
        """The bucket's rules in order, untimed: disabled ones skipped, rollouts applied, each failure reported."""
        hits: list[Hit] = []
        failures: list[Failure] = []
        evaluated = 0
        for slot in bucket.slots:
            if slot.disabled:
                continue
            evaluated += 1
            if slot.threshold is not None and not self._in_rollout(slot, event, failures):
                continue
            try:
                if slot.condition(context):
                    hits.append(slot.hit)
            except Exception as error:  # this rule fails alone
                failures.append(self._raised(slot, error))
        return Evaluation(tuple(hits), tuple(failures), evaluated)

    def _timed(self, bucket: _Bucket, event: Event, context: Context) -> Evaluation:
        """``evaluate`` with each rule timed: one over its budget on the wall clock is timed again on the thread's
        CPU clock (a preempted process is not a slow rule); over it there too, its result is discarded and the
        overrun counted."""
        clock, budget = self._clock, self._budget_ns
        hits: list[Hit] = []
        failures: list[Failure] = []
        evaluated = 0
        started = clock()
        for slot in bucket.slots:
            if slot.disabled:
                continue
            evaluated += 1
            if slot.threshold is not None and not self._in_rollout(slot, event, failures):
                continue
            try:
                matched = slot.condition(context)
            except Exception as error:  # this rule fails alone
                failures.append(self._raised(slot, error))
                started = clock()
                continue
            ended = clock()  # one clock read per rule: this rule's end is the next one's start
            elapsed, started = ended - started, ended
            if elapsed > budget:
                elapsed = self._cpu_time(slot, context)
                started = clock()
                if elapsed > budget:
                    self._overrun(slot, elapsed, failures)
                    continue
            if matched:
                hits.append(slot.hit)
        return Evaluation(tuple(hits), tuple(failures), evaluated)

    def _raised(self, slot: _Slot, error: Exception) -> Failure:
        """A condition that raised: its rule error's message, or (a fact of the wrong type, a FactSource that
        raised) the exception's type and message."""
        message = str(error) if isinstance(error, RuleRuntimeError) else f"{type(error).__name__}: {error}"
        return self._failure(slot, FailureCode.RUNTIME_ERROR, message)

    @staticmethod
    def _failure(slot: _Slot, code: FailureCode, message: str, elapsed_ns: int = 0) -> Failure:
        return Failure(slot.rule.rule_id, slot.rule.version, code, message, elapsed_ns)

    def _in_rollout(self, slot: _Slot, event: Event, failures: list[Failure]) -> bool:
        by = slot.rule.rollout_by
        entity_id = event.entities.get(by) if by is not None else (event.subject or (None, None))[1]
        if entity_id is None:
            failures.append(self._failure(slot, FailureCode.RUNTIME_ERROR, f"no {by or 'subject'} to roll out by"))
            return False
        assert slot.threshold is not None
        return rollout_position(slot.rule.rule_id, entity_id) < slot.threshold

    def _cpu_time(self, slot: _Slot, context: Context) -> int:
        """The rule's own CPU time on this event: a second run, on the thread's CPU clock."""
        started = self._cpu_clock()
        with contextlib.suppress(Exception):  # the first run succeeded; a second one cannot fail differently
            slot.condition(context)
        return self._cpu_clock() - started

    def _overrun(self, slot: _Slot, elapsed: int, failures: list[Failure]) -> None:
        slot.overruns += 1
        message = f"evaluation took {elapsed} ns, over the budget of {self._budget_ns} ns; result discarded"
        failures.append(self._failure(slot, FailureCode.OVER_BUDGET, message, elapsed))
        if slot.overruns >= self._max_overruns:
            slot.disabled = self._disabled_any = True
            failures.append(
                self._failure(
                    slot, FailureCode.DISABLED, f"disabled after {slot.overruns} overruns of its budget", elapsed
                )
            )


def _plain_run(plain: tuple[tuple[Callable[[Context], bool], Hit], ...], context: Context) -> Evaluation | None:
    """A bucket's conditions in order, with nothing to skip or roll out: its evaluation, or None when a condition
    raised (``RuleSet._run`` then runs them again, reporting each failure: a condition is a pure function of the
    event and its facts)."""
    hits: list[Hit] = []
    try:
        for condition, hit in plain:
            if condition(context):
                hits.append(hit)
    except Exception:
        return None
    return Evaluation(tuple(hits), (), len(plain))


def counter_records(catalogue: Catalogue, event: Event) -> list[CounterRecord]:
    """What to record in the counter store for this event: for every counter source of its type, one record per
    entity kind the event carries (but the source's member kind). Record before ``needs``/``evaluate`` so a rule's
    counters include the event itself. A DISTINCT source's member missing from the event records nothing."""
    records: list[CounterRecord] = []
    key = event.idempotency_key or uuid.uuid4().hex
    for source in catalogue.counters.values():
        if event.type not in source.event_types:
            continue
        if source.kind == CounterKind.COUNT:
            member: str | None = key
        elif source.member_entity is not None:
            member = event.entities.get(source.member_entity)
        else:
            value = event.attributes.get(source.member_attribute or "")
            member = None if value is None else str(value)
        if member is None:
            continue
        for kind, entity_id in event.entities.items():
            if kind != source.member_entity:
                records.append(CounterRecord(source.name, kind, entity_id, event.occurred_at, member))
    return records
