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

from domain.account import Account
from domain.actor import Actor
from domain.ad import Ad
from domain.automation import decode_action
from domain.bulk import BulkJob
from domain.content import Content
from domain.decision import Verdict
from domain.errors import DomainError
from domain.ports import BulkUnitOfWork
from domain.region import Region
from domain.report import ReportSource
from domain.rules import Catalogue, Decide, Delayed, RuleSet, counter_records
from domain.rules.compiler import CompiledRule
from domain.rules.event import Event
from domain.rules.memory import MemoryCounterStore, Snapshot
from domain.rules.ports import EntityFacts
from domain.services.bulk import Grant, SubmitBulkDecide, submit_bulk_decide
from domain.services.report import SubmitReport, submit_report
from domain.services.rule_actions import SUBJECT_KINDS, rule_actor
from domain.services.rule_runs import ActiveRule, action_kind
from domain.subject import SubjectKind

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

    @property
    def decide(self) -> Decide | None:
        """The version's ``decide(...)`` action, if it has one (what a retroactive run applies)."""
        for action in self.rule.actions:
            inner = action.action if isinstance(action, Delayed) else action
            if isinstance(inner, Decide):
                return inner
        return None


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


# -- retroaction ------------------------------------------------------------------------------------------------
MAX_RETRO: Final = 1_000


@dataclass(frozen=True)
class Retroaction:
    """Apply a backtested version's ``decide`` to the subjects it matched: each gets (or keeps) a case, opened by
    an AUTOMATED report citing the rule version, then one bulk job decides them all as the caller would
    (``bulkDecideCases``: each case in its own region's permissions, failing alone)."""

    rule: ActiveRule
    subjects: tuple[tuple[str, str], ...]
    backtest_id: uuid.UUID
    rationale: str


async def retroact(
    uow: BulkUnitOfWork, actor: Actor, cmd: Retroaction, decide: Decide, grant: Grant, *, lease_owner: str | None
) -> tuple[BulkJob, int]:
    """The bulk job and how many subjects had a case to decide."""
    if cmd.rule.policy_id is None:
        raise DomainError.invalid_state("the rule version cites no policy", "backtestId")
    if not cmd.subjects:
        raise DomainError.invalid_state("the backtest matched no subject to act on", "backtestId")
    if len(cmd.subjects) > MAX_RETRO:
        raise DomainError.invalid_input(f"a retroactive run acts on at most {MAX_RETRO} subjects", "backtestId")
    requested = tuple(decode_action(a) for a in decide.actions)
    reporter = rule_actor(cmd.rule, requested)
    region = Region(cmd.rule.region)
    case_ids: list[uuid.UUID] = []
    for kind, external_id in cmd.subjects:
        subject_kind = SUBJECT_KINDS.get(kind)
        if subject_kind is None:
            continue
        record: Account | Content | Ad | None
        if subject_kind is SubjectKind.CONTENT:
            record = await uow.contents.get_by_external_id(region, external_id)
        elif subject_kind is SubjectKind.ACCOUNT:
            record = await uow.accounts.get_by_external_id(region, external_id)
        else:
            record = await uow.ads.get_by_external_id(region, external_id)
        if record is None:
            continue  # Vigil never heard of it: nothing to decide on
        report = await submit_report(
            uow,
            reporter,
            SubmitReport(
                subject_kind=subject_kind,
                subject_id=record.id,
                policy_id=cmd.rule.policy_id,
                source=ReportSource.AUTOMATED,
                text=f"Rule {cmd.rule.name} (version {cmd.rule.version}) matched in backtest {cmd.backtest_id}",
                idempotency_key=f"retro:{cmd.backtest_id}:{kind}:{external_id}"[:200],
            ),
        )
        if report.case_id not in case_ids:
            case_ids.append(report.case_id)
    if not case_ids:
        raise DomainError.invalid_state("none of the matched subjects is known to Vigil", "backtestId")
    job = await submit_bulk_decide(
        uow,
        actor,
        SubmitBulkDecide(
            case_ids=tuple(case_ids),
            verdict=Verdict.VIOLATING,
            policy_id=cmd.rule.policy_id,
            rationale=f"Retroactive: rule {cmd.rule.name} (version {cmd.rule.version}), backtest {cmd.backtest_id}. "
            f"{cmd.rationale}",
            actions=requested,
        ),
        grant,
        lease_owner=lease_owner,
    )
    return job, len(case_ids)
