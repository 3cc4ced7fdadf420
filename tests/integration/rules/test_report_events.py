"""Reports as events for the rules (``domain.services.intake_events.report_events``): a content report carries
the content and its owner by platform ids, counters of reports and of distinct reporters fill from them, and the
issue's examples (`count(reports, account, 1h) >= 5`, `distinct(reporters, content, 24h)`) compile and hit.
In-memory ports: no database (the PostgreSQL and Redis stores have their own tests)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from domain.actor import ActorKind
from domain.region import Region
from domain.report import Report, ReportSource
from domain.rules import ListIndex, RuleSet, define_rule
from domain.rules.memory import MemoryCounterStore
from domain.rules.ports import EntityFacts
from domain.services.intake_events import report_events
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
from domain.subject import SubjectKind

T0 = datetime(2026, 12, 6, 9, tzinfo=UTC)
POLICY = uuid.uuid4()
CONTENT = uuid.uuid4()
SOURCE = """rule "brigade"
on content.reported
in EU
policy SPAM
when count(reports, account, 1h) >= 5 or distinct(reporters, content, 24h) >= 3
then hold()
"""


class Ports:
    def __init__(self) -> None:
        self.counters = MemoryCounterStore()
        self.hits: list[HitRecord] = []

    async def facts(
        self, wanted: Iterable[tuple[str, str, str]], now: datetime
    ) -> Mapping[tuple[str, str, str], EntityFacts]:
        return {}

    async def snoozed(self, wanted: Iterable[tuple[str, str, str]], now: datetime) -> set[tuple[str, str, str]]:
        return set()

    async def take(self, pending: Sequence[PendingAction], now: datetime) -> list[ActionResult]:
        return [ActionResult("HOLD", Outcome.TAKEN) for _ in pending]

    async def record_hits(self, hits: Sequence[HitRecord], now: datetime) -> None:
        self.hits += hits


def _report(reporter: str, minutes: int) -> Report:
    return Report(
        region=Region.EU,
        subject_kind=SubjectKind.CONTENT,
        subject_id=CONTENT,
        source=ReportSource.USER,
        reporter_id=reporter,
        reporter_kind=ActorKind.TOKEN,
        policy_id=POLICY,
        case_id=uuid.uuid4(),
        created_at=T0 + timedelta(minutes=minutes),
        updated_at=T0,
    )


async def test_reports_fill_counters_and_the_issues_examples_hit() -> None:
    known = catalogue({}, frozenset({"SPAM"}))
    compiled = define_rule(SOURCE, known, rule_id="r1", version=4)
    active = ActiveRule(uuid.uuid4(), 4, "EU", "brigade", RuleState.LIVE, POLICY, None, None)
    loaded = LoadedRules({"EU": RuleSet([compiled], ListIndex(()))}, {"r1": active}, known)
    ports = Ports()
    reports = [_report("flagger-a", 0), _report("flagger-a", 1), _report("flagger-b", 2), _report("flagger-c", 3)]
    events = report_events(reports, {CONTENT: ("post-1", "owner-1")}, {POLICY: "SPAM"})
    assert dict(events[0].event.entities) == {"content": "post-1", "account": "owner-1"}
    assert {e.event.type for e in events} == {"content.reported"}
    await run_rules(loaded, events[:2], ports, T0)
    assert ports.hits == []  # two reports, one reporter
    await run_rules(loaded, events[2:], ports, T0)
    assert [(h.subject, h.event_id) for h in ports.hits] == [(("content", "post-1"), reports[3].id)]
    assert ports.hits[0].actions == (ActionResult("HOLD", Outcome.TAKEN),)
    assert report_events(reports, {}, {POLICY: "SPAM"}) == []  # a subject the lookup did not find: no event
