"""submitReport and submitReports on the SQL unit of work and on report intake's (unlocked and locked): the same
rows, audit events and outbox events from the same seeded state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from domain.actor import Actor, ActorKind
from domain.errors import ErrorCode
from domain.report import ReportSource
from domain.services.report import IntakeReads, SubmitReport, submit_report, submit_reports
from domain.subject import SubjectKind
from persistence.fast.intake import IntakeUnitOfWork
from persistence.repositories import PostgresUnitOfWork
from tests.integration.differential.conftest import REPORTER, World
from tests.integration.differential.harness import Differential, Run, Side, audit_of

MODES = pytest.mark.parametrize("optimistic", [True, False], ids=["unlocked", "locked"])


def report(subject: uuid.UUID, policy: uuid.UUID, key: str, source: ReportSource = ReportSource.USER) -> SubmitReport:
    return SubmitReport(SubjectKind.CONTENT, subject, policy, source, text=f"reported as {key}", idempotency_key=key)


def on_sql(
    batches: Sequence[tuple[Actor, Sequence[SubmitReport]]], *, single: bool, regions: frozenset[str] | None = None
) -> Run:
    """Each (actor, commands) as one request on the SQL unit of work (seeing ``regions``: None, all)."""

    async def run(side: Side) -> list[Any]:
        results: list[Any] = []
        for actor, cmds in batches:
            operation = "submitReport" if single else "submitReports"
            audit = audit_of(operation, actor.id)
            async with PostgresUnitOfWork(side.sessions, audit, regions=regions, clock=side.clock) as uow:
                results.append(await _command(uow, actor, cmds, single))
        return results

    return run


def on_intake(
    batches: Sequence[tuple[Actor, Sequence[SubmitReport]]],
    *,
    single: bool,
    optimistic: bool,
    regions: frozenset[str] | None = None,
) -> Run:
    """Each (actor, commands) as one request on report intake's unit of work (seeing ``regions``)."""

    async def run(side: Side) -> list[Any]:
        results: list[Any] = []
        for actor, cmds in batches:
            operation = "submitReport" if single else "submitReports"
            reads = IntakeReads.of(actor, cmds)
            uow = IntakeUnitOfWork(side.pool, audit_of(operation, actor.id), reads, regions=regions, clock=side.clock)
            uow.optimistic = optimistic
            async with uow:
                results.append(await _command(uow, actor, cmds, single))
        return results

    return run


async def _command(uow: Any, actor: Actor, cmds: Sequence[SubmitReport], single: bool) -> Any:
    if single:
        [cmd] = cmds
        return await submit_report(uow, actor, cmd)
    return await submit_reports(uow, actor, cmds)


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


@MODES
async def test_a_batch(differential: Differential, world: World, optimistic: bool) -> None:
    """Two reports on one new subject, one on an open case, a repeated key (the first report comes back), a key
    reused for another report (refused) and a subject outside the policy's surface would be refused alone."""
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
        on_sql(batches, single=False), on_intake(batches, single=False, optimistic=optimistic)
    )
    assert a.audit_kinds() == sorted([("Case", "insert")] * 2 + [("Case", "update")] + [("Report", "insert")] * 4), (
        "one audit event per entity per unit of work"
    )
    assert [type(r).__name__ for r in a.results[0]] == [type(r).__name__ for r in b.results[0]]


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
