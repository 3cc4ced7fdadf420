"""submitReport and submitReports on the SQL unit of work and on report intake's (unlocked and locked): the same
rows, audit events and outbox events from the same seeded state. With rules in the reports' region both engines
also note the reports' events in the rules' backlog with their commit (``persistence.rule_backlog.note_reports``):
the same row (``rule_backlog`` is one of the tables compared)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from domain.actor import Actor, ActorKind
from domain.errors import ErrorCode
from domain.report import Report, ReportSource
from domain.services.report import IntakeReads, SubmitReport, submit_report, submit_reports
from domain.subject import SubjectKind
from persistence import rule_backlog
from persistence.fast.intake import IntakeUnitOfWork
from persistence.repositories import PostgresUnitOfWork
from tests.integration.differential.conftest import REPORTER, World
from tests.integration.differential.harness import Differential, Run, Side, altered, audit_of

MODES = pytest.mark.parametrize("optimistic", [True, False], ids=["unlocked", "locked"])
RULES = pytest.mark.parametrize("rules", [frozenset(), frozenset({"EU"})], ids=["no-rules", "eu-rules"])


def report(subject: uuid.UUID, policy: uuid.UUID, key: str, source: ReportSource = ReportSource.USER) -> SubmitReport:
    return SubmitReport(SubjectKind.CONTENT, subject, policy, source, text=f"reported as {key}", idempotency_key=key)


def on_sql(
    batches: Sequence[tuple[Actor, Sequence[SubmitReport]]],
    *,
    single: bool,
    regions: frozenset[str] | None = None,
    rules: frozenset[str] = frozenset(),
) -> Run:
    """Each (actor, commands) as one request on the SQL unit of work (seeing ``regions``: None, all; ``rules``: the
    regions with rules)."""

    async def run(side: Side) -> list[Any]:
        results: list[Any] = []
        for actor, cmds in batches:
            operation = "submitReport" if single else "submitReports"
            audit = audit_of(operation, actor.id)
            async with PostgresUnitOfWork(side.sessions, audit, regions=regions, clock=side.clock) as uow:
                results.append(await _command(uow, actor, cmds, single, rules))
        return results

    return run


def on_intake(
    batches: Sequence[tuple[Actor, Sequence[SubmitReport]]],
    *,
    single: bool,
    optimistic: bool,
    regions: frozenset[str] | None = None,
    rules: frozenset[str] = frozenset(),
) -> Run:
    """Each (actor, commands) as one request on report intake's unit of work (seeing ``regions``)."""

    async def run(side: Side) -> list[Any]:
        results: list[Any] = []
        for actor, cmds in batches:
            operation = "submitReport" if single else "submitReports"
            reads = IntakeReads.of(actor, cmds, rules)
            uow = IntakeUnitOfWork(side.pool, audit_of(operation, actor.id), reads, regions=regions, clock=side.clock)
            uow.optimistic = optimistic
            async with uow:
                results.append(await _command(uow, actor, cmds, single, rules))
        return results

    return run


async def _command(
    uow: Any, actor: Actor, cmds: Sequence[SubmitReport], single: bool, rules: frozenset[str] = frozenset()
) -> Any:
    """The command as the resolvers run it: the reports filed, then their events noted for the rules."""
    since = uow.clock.now()
    if single:
        [cmd] = cmds
        result: Any = await submit_report(uow, actor, cmd)
        filed = [result]
    else:
        result = await submit_reports(uow, actor, cmds)
        filed = [r for r in result if isinstance(r, Report)]
    await rule_backlog.note_reports(uow, filed, rules, since)
    return result


def noted(outcome: Any) -> list[list[tuple[str, str, str]]]:
    """The backlog rows' events: (type, content, policy code) each."""
    return [
        [(e["type"], e["entities"]["content"], e["attributes"]["policy_code"]) for e in json.loads(row)["events"]]
        for row in outcome.rows["rule_backlog"]
    ]


@MODES
async def test_a_report_on_a_new_subject(differential: Differential, world: World, optimistic: bool) -> None:
    batches = [(REPORTER, [report(world.new_videos[0], world.hate, "k-new")])]
    a, _ = await differential.run(on_sql(batches, single=True), on_intake(batches, single=True, optimistic=optimistic))
    assert a.audit_kinds() == [("Case", "insert"), ("Report", "insert")]


@MODES
async def test_a_report_on_an_open_case(differential: Differential, world: World, optimistic: bool) -> None:
    batches = [(REPORTER, [report(world.reported_video, world.hate, "k-open")])]
    a, _ = await differential.run(on_sql(batches, single=True), on_intake(batches, single=True, optimistic=optimistic))
    assert a.audit_kinds() == [("Case", "update"), ("Report", "insert")]


@RULES
@MODES
async def test_a_batch(differential: Differential, world: World, optimistic: bool, rules: frozenset[str]) -> None:
    """Two reports on one new subject, one on an open case, a repeated key (the first report comes back), a key
    reused for another report (refused) and a subject outside the policy's surface would be refused alone. With
    rules in the EU: one backlog row, one event per report filed (the repeated key's report once)."""
    new, other = world.new_videos[0], world.new_videos[1]
    cmds = [
        report(new, world.hate, "b-1"),
        report(new, world.severe, "b-2", ReportSource.TRUSTED_FLAGGER),
        report(world.reported_video, world.hate, "b-3"),
        report(new, world.hate, "b-1"),
        report(other, world.hate, "b-2"),
        report(other, world.hate, "b-4"),
    ]
    batches = [(REPORTER, cmds)]
    a, b = await differential.run(
        on_sql(batches, single=False, rules=rules), on_intake(batches, single=False, optimistic=optimistic, rules=rules)
    )
    assert a.audit_kinds() == sorted([("Case", "insert")] * 2 + [("Case", "update")] + [("Report", "insert")] * 4), (
        "one audit event per entity per unit of work"
    )
    assert [type(r).__name__ for r in a.results[0]] == [type(r).__name__ for r in b.results[0]]
    if not rules:
        assert a.rows["rule_backlog"] == []
    else:
        [events] = noted(a)  # b-1, b-2, b-3, b-4 in the order filed
        assert [(e[0], e[2]) for e in events] == [
            ("content.reported", "HATE_SPEECH"),
            ("content.reported", "SEVERE_HARM"),
            ("content.reported", "HATE_SPEECH"),
            ("content.reported", "HATE_SPEECH"),
        ]
        contents = [e[1] for e in events]
        assert contents[0] == contents[1]
        assert len(set(contents)) == 3


@MODES
async def test_a_brigade_with_rules(differential: Differential, world: World, optimistic: bool) -> None:
    """Eight reporters, one request each, on one new subject with rules in the EU: one backlog row per request."""
    subject = world.new_videos[2]
    batches = [
        (Actor(id=f"brigade-{i}", kind=ActorKind.TOKEN), [report(subject, world.hate, f"brigade-{i}")])
        for i in range(8)
    ]
    eu = frozenset({"EU"})
    a, _ = await differential.run(
        on_sql(batches, single=True, rules=eu), on_intake(batches, single=True, optimistic=optimistic, rules=eu)
    )
    assert [len(events) for events in noted(a)] == [1] * 8


@MODES
async def test_rules_in_other_regions_note_nothing(differential: Differential, world: World, optimistic: bool) -> None:
    cmds = [report(world.new_videos[0], world.hate, "other-1")]
    us = frozenset({"US"})
    a, _ = await differential.run(
        on_sql([(REPORTER, cmds)], single=False, rules=us),
        on_intake([(REPORTER, cmds)], single=False, optimistic=optimistic, rules=us),
    )
    assert a.rows["rule_backlog"] == []


async def test_a_backlog_row_one_engine_does_not_write_is_caught(differential: Differential, world: World) -> None:
    batches = [(REPORTER, [report(world.new_videos[0], world.hate, "caught")])]
    eu = frozenset({"EU"})

    def dropped(self: Any, note: Any) -> None:
        return None

    with altered(IntakeUnitOfWork, "note_for_rules", dropped), pytest.raises(AssertionError, match="rule_backlog"):
        await differential.run(
            on_sql(batches, single=True, rules=eu), on_intake(batches, single=True, optimistic=True, rules=eu)
        )


async def test_backlog_events_one_engine_builds_differently_are_caught(
    differential: Differential, world: World
) -> None:
    """The events travel as JSON text in the intake's write: one reordered is told apart."""
    batches = [
        (REPORTER, [report(world.new_videos[0], world.hate, "n-1"), report(world.new_videos[1], world.hate, "n-2")])
    ]
    eu = frozenset({"EU"})
    original = rule_backlog.notes_cte

    def reversed_events(notes: Any, first: int) -> Any:
        return original([dataclasses.replace(n, accepted=n.accepted[::-1]) for n in notes], first)

    with (
        altered(rule_backlog, "notes_cte", reversed_events),
        pytest.raises(AssertionError, match="rule_backlog"),
    ):
        await differential.run(
            on_sql(batches, single=False, rules=eu), on_intake(batches, single=False, optimistic=False, rules=eu)
        )


@MODES
async def test_a_brigade(differential: Differential, world: World, optimistic: bool) -> None:
    """Eight reporters, one request each, on one new subject."""
    subject = world.new_videos[2]
    batches = [
        (Actor(id=f"brigade-{i}", kind=ActorKind.TOKEN), [report(subject, world.hate, f"brigade-{i}")])
        for i in range(8)
    ]
    a, _ = await differential.run(on_sql(batches, single=True), on_intake(batches, single=True, optimistic=optimistic))
    assert a.audit_kinds() == sorted([("Case", "insert")] + [("Case", "update")] * 7 + [("Report", "insert")] * 8)


@MODES
async def test_a_batch_behind_a_region_wall(differential: Differential, world: World, optimistic: bool) -> None:
    """A reporter who may report in the EU only: the US subject does not exist for either engine (NOT_FOUND),
    the EU one is reported."""
    cmds = [report(world.us_video, world.hate, "wall-us"), report(world.new_videos[1], world.hate, "wall-eu")]
    batches = [(REPORTER, cmds)]
    eu = frozenset({"EU"})
    a, b = await differential.run(
        on_sql(batches, single=False, regions=eu),
        on_intake(batches, single=False, optimistic=optimistic, regions=eu),
    )
    [results] = a.results
    assert [getattr(r, "code", None) for r in results] == [ErrorCode.NOT_FOUND, None]
    assert [str(r) for r in results[:1]] == [str(r) for r in b.results[0][:1]]
    assert a.audit_kinds() == [("Case", "insert"), ("Report", "insert")]
