"""Running the rules on accepted events: counters recorded, facts and counters prefetched once per batch, every
event evaluated, each hit recorded, and a LIVE rule's actions run unless a limit withholds them: a batch's LIVE actions
are handed to ``RunPorts.take`` together, once every event was evaluated, so their limits are counted in one go.

A SHADOW rule's hits are recorded with their actions WITHHELD (``shadow``): nothing is done. A LIVE rule's action
is withheld, and the hit still recorded, when the rule has expired or the entity is snoozed (a human reviewed it).
Past the rule's daily action cap or the region's daily circuit breaker for that action kind, the action is
withheld too and the hit *enqueued* for a human: an AUTOMATED report on the event's subject opens or joins its
case (in the named queue of an ``open_case``), and nothing automated is done (no decision, no label); the result
names that case. A ``delay(min, max, action)`` is not taken now: it is SCHEDULED (stored with a due time drawn in
its window) and run when due by ``domain.services.delayed_actions``, which applies the same checks then. The
region wall is the rule set's: a rule sees only the events of the regions its text names, and a rule is loaded
only for its own region.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.rules import Action, Catalogue, Decide, Delayed, Hold, Label, OpenCase, RuleSet, counter_records
from domain.rules.memory import Snapshot
from domain.rules.ports import CounterKey, CounterRecord, CounterStore, EntityFacts
from domain.services.events import Accepted
from domain.services.rules import RuleState


class Outcome(StrEnum):
    TAKEN = "TAKEN"
    WITHHELD = "WITHHELD"
    """Not taken: shadow, expired, snoozed, or past a cap or breaker (then ``case_id`` is the case enqueued)."""
    FAILED = "FAILED"
    SCHEDULED = "SCHEDULED"
    """A delayed action, stored to run when due (``reason``: the due time)."""
    DROPPED = "DROPPED"
    """A delayed action not run when due: the rule left LIVE or expired, or the subject was snoozed meanwhile."""


@dataclass(frozen=True)
class ActiveRule:
    """A SHADOW or LIVE rule at its version in force, as the runner needs it."""

    rule_id: uuid.UUID
    version: int
    region: str
    name: str
    state: RuleState
    policy_id: uuid.UUID | None
    daily_action_cap: int | None
    expires_at: datetime | None


@dataclass(frozen=True)
class LoadedRules:
    """One rule set per region (each over its region's lists): an event meets only its region's rules."""

    rulesets: Mapping[str, RuleSet]
    rules: Mapping[str, ActiveRule]  # by rule id (text)
    catalogue: Catalogue
    valid_until: datetime | None = None
    """The first expiry among the rules: the set is rebuilt then."""


@dataclass(frozen=True)
class ActionResult:
    action: str
    outcome: Outcome
    reason: str | None = None
    case_id: uuid.UUID | None = None
    """A withheld action's subject enqueued for a human: the case it opened or joined."""

    def as_dict(self) -> dict[str, str | None]:
        found = {"action": self.action, "outcome": self.outcome.value, "reason": self.reason}
        if self.case_id is not None:
            found["case_id"] = str(self.case_id)
        return found


@dataclass(frozen=True)
class PendingAction:
    """A LIVE rule's immediate action on an event that neither the rule's state nor a snooze withholds: what
    ``RunPorts.take`` counts against the limits and takes (or enqueues)."""

    rule: ActiveRule
    accepted: Accepted
    action: Action


@dataclass(frozen=True)
class HitRecord:
    rule: ActiveRule
    event_id: uuid.UUID
    occurred_at: datetime
    subject: tuple[str, str] | None
    actions: tuple[ActionResult, ...]

    @property
    def mode(self) -> str:
        return "LIVE" if self.rule.state is RuleState.LIVE else "SHADOW"


class RunPorts(Protocol):
    """What running needs from outside (``persistence.rule_runtime``)."""

    counters: CounterStore

    async def facts(
        self, wanted: Iterable[tuple[str, str, str]], now: datetime
    ) -> Mapping[tuple[str, str, str], EntityFacts]:
        """(region, kind, id) -> facts, for the entities Vigil or its labels know."""
        ...

    async def snoozed(self, wanted: Iterable[tuple[str, str, str]], now: datetime) -> set[tuple[str, ...]]:
        """(region, kind, id) snoozed for every rule; (rule id, region, kind, id) snoozed for that rule only."""
        ...

    async def take(self, pending: Sequence[PendingAction], now: datetime) -> Sequence[ActionResult]:
        """Take a batch's LIVE actions, one result each in their order: each counted against its rule's daily cap
        and its region's circuit breaker for its kind (in this order: the first ones of the batch are counted first)
        and taken, or, past either, WITHHELD with the reason (``daily cap``, ``circuit breaker``) and its subject
        enqueued for a human (an AUTOMATED report, nothing automated; the result names the case), or FAILED."""
        ...

    async def schedule(
        self, rule: ActiveRule, accepted: Accepted, action: Delayed, position: int, now: datetime
    ) -> ActionResult:
        """Store a delayed action (the ``position``-th of the hit) to run when due: SCHEDULED, or FAILED."""
        ...

    async def record_hits(self, hits: Sequence[HitRecord], now: datetime) -> None: ...


def action_kind(action: Action) -> str:
    if isinstance(action, Delayed):
        return action_kind(action.action)
    return {OpenCase: "OPEN_CASE", Decide: "DECIDE", Label: "LABEL", Hold: "HOLD"}[type(action)]


@dataclass
class RunSummary:
    hits: list[HitRecord] = field(default_factory=list)
    failures: int = 0


async def run_rules(loaded: LoadedRules, accepted: Sequence[Accepted], ports: RunPorts, now: datetime) -> RunSummary:
    """Evaluate the new (not duplicate) events; record their hits; act on LIVE ones."""
    # Only events of regions with active rules cost anything, and only the counters those rules read are kept:
    # a counter starts counting when the first rule reading it goes SHADOW.
    events = [a for a in accepted if not a.duplicate and a.event.region in loaded.rulesets]
    summary = RunSummary()
    if not events:
        return summary
    sources = {
        region: {spec.source for rule in ruleset.rules for spec in rule.counters}
        for region, ruleset in loaded.rulesets.items()
    }
    records = [
        r for a in events for r in counter_records(loaded.catalogue, a.event) if r.source in sources[a.event.region]
    ]
    if records:
        await ports.counters.record(records)
    sets = [loaded.rulesets[a.event.region] for a in events]
    needs = [ruleset.needs(a.event) for ruleset, a in zip(sets, events, strict=True)]
    wanted = {
        (a.event.region, kind, entity_id) for a, n in zip(events, needs, strict=True) for kind, entity_id in n.entities
    }
    keys: set[CounterKey] = {k for n in needs for k in n.counters}
    facts = await ports.facts(wanted, now) if wanted else {}
    # Counters are read at the batch's latest event time, not this clock: an event stamped a little ahead still
    # counts itself, and a replayed or late batch is counted as of when it happened (an event much older than the
    # rest of its batch is counted as of the batch's latest: one read per batch).
    read_at = max(a.event.occurred_at for a in events)
    later = _later_members(records)
    counters = await ports.counters.read(keys, read_at) if keys else {}
    subjects = {(a.event.region, *a.event.subject) for a in events if a.event.subject is not None}
    snoozed = await ports.snoozed(subjects, now) if subjects else set()
    by_region: dict[str, dict[tuple[str, str], EntityFacts]] = {}  # each event sees its own region's facts only
    for (region, kind, eid), found in facts.items():
        by_region.setdefault(region, {})[(kind, eid)] = found
    pending: list[PendingAction] = []
    planned: list[tuple[ActiveRule, Accepted, list[ActionResult | int]]] = []
    for ruleset, accepted_event, need in zip(sets, events, needs, strict=True):
        event = accepted_event.event
        own = by_region.get(event.region, {})
        at_event = {k: counters.get(k, 0) - later(k, event.occurred_at) for k in need.counters}
        evaluation = ruleset.evaluate(event, Snapshot(own, at_event))
        summary.failures += len(evaluation.failures)
        for hit in evaluation.hits:
            rule = loaded.rules.get(hit.rule_id)
            if rule is None or rule.version != hit.version:
                continue
            planned.append(
                (rule, accepted_event, await _plan(rule, accepted_event, hit.actions, ports, now, snoozed, pending))
            )
    # The batch's LIVE actions are taken together (their limits counted in one go), then each hit gets its results.
    taken = list(await ports.take(pending, now)) if pending else []
    if len(taken) != len(pending):
        raise RuntimeError(f"{len(pending)} actions to take, {len(taken)} results")
    for rule, accepted_event, plan in planned:
        results = tuple(taken[p] if isinstance(p, int) else p for p in plan)
        event = accepted_event.event
        summary.hits.append(HitRecord(rule, accepted_event.event_id, event.occurred_at, event.subject, results))
    if summary.hits:
        await ports.record_hits(summary.hits, now)
    return summary


def _later_members(records: Sequence[CounterRecord]) -> Callable[[CounterKey, datetime], int]:
    """How many of the batch's own members of a counter were recorded after a time (and not at or before it): the
    batch's counters are read once, at its latest event, and each event sees them as of its own time."""
    by_counter: dict[tuple[str, str, str], dict[str, datetime]] = {}
    for r in records:
        first = by_counter.setdefault((r.source, r.entity_kind, r.entity_id), {})
        if r.member not in first or r.at < first[r.member]:
            first[r.member] = r.at

    def later(key: CounterKey, at: datetime) -> int:
        members = by_counter.get((key.source, key.entity_kind, key.entity_id), {})
        return sum(1 for seen in members.values() if seen > at)

    return later


async def _plan(
    rule: ActiveRule,
    accepted: Accepted,
    actions: Sequence[Action],
    ports: RunPorts,
    now: datetime,
    snoozed: set[tuple[str, ...]],
    pending: list[PendingAction],
) -> list[ActionResult | int]:
    """A hit's actions: the result of each one withheld or scheduled now, or the index in ``pending`` of one to
    take with the batch's."""
    plan: list[ActionResult | int] = []
    subject = accepted.event.subject
    is_snoozed = subject is not None and (
        (accepted.event.region, *subject) in snoozed or (str(rule.rule_id), accepted.event.region, *subject) in snoozed
    )
    for position, action in enumerate(actions):
        kind = action_kind(action)
        if rule.state is not RuleState.LIVE:
            plan.append(ActionResult(kind, Outcome.WITHHELD, "shadow"))
            continue
        if rule.expires_at is not None and rule.expires_at <= now:
            plan.append(ActionResult(kind, Outcome.WITHHELD, "expired"))
            continue
        if is_snoozed:
            plan.append(ActionResult(kind, Outcome.WITHHELD, "snoozed"))
            continue
        if isinstance(action, Delayed):  # its cap and breaker are counted when it runs
            plan.append(await ports.schedule(rule, accepted, action, position, now))
            continue
        plan.append(len(pending))
        pending.append(PendingAction(rule, accepted, action))
    return plan
