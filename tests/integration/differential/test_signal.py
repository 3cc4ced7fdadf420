"""submitSignal: a score the rule enqueues, on the SQL unit of work and on report intake's with the signal's read
set (its reports' keys and the rules for its classifier); and the AUTOMATED report it files against the one
intake files for the same report. The same rows, audit and outbox events."""

from __future__ import annotations

from typing import Any

import pytest

from domain.actor import Actor, ActorKind
from domain.report import ReportSource
from domain.services.automation import SignalOutcome, SubmitSignal, submit_signal
from domain.services.report import IntakeReads, SubmitReport, submit_report
from domain.subject import SubjectKind
from persistence.fast.intake import IntakeUnitOfWork
from persistence.repositories import PostgresUnitOfWork
from tests.integration.differential.conftest import World
from tests.integration.differential.harness import Differential, Side, audit_of
from tests.integration.operations.test_automation import CLASSIFIER

PLATFORM = Actor(id="platform-token", kind=ActorKind.TOKEN)
REASON = f"classifier signal: {CLASSIFIER}"


async def test_an_enqueued_signal_files_what_intake_files(differential: Differential, world: World) -> None:
    signal = SubmitSignal(SubjectKind.CONTENT, world.signal_video, CLASSIFIER, ((world.hate, 0.7),), "sig-1")
    filed = SubmitReport(
        SubjectKind.CONTENT,
        world.signal_video,
        world.hate,
        ReportSource.AUTOMATED,
        text=f"{CLASSIFIER} scored 0.7 (enqueue at 0.5, decide at 0.9)",
        idempotency_key=signal.report_key(world.hate),
    )
    audit = audit_of("submitSignal", PLATFORM.id, reason=REASON)

    async def on_sql(side: Side) -> Any:
        async with PostgresUnitOfWork(side.sessions, audit, clock=side.clock) as uow:
            return await submit_signal(uow, PLATFORM, signal)

    async def on_intake(side: Side) -> Any:
        uow = IntakeUnitOfWork(side.pool, audit, IntakeReads.of(PLATFORM, [filed]), clock=side.clock)
        uow.optimistic = True
        async with uow:
            return await submit_report(uow, PLATFORM, filed)

    a, _ = await differential.run(on_sql, on_intake)
    assert [o.outcome for o in a.results] == [SignalOutcome.ENQUEUED]
    assert a.audit_kinds() == [("Case", "insert"), ("Report", "insert")]


def signal_reads(actor: Actor, cmd: SubmitSignal) -> IntakeReads:
    """What ``submit_signal`` reads when no score reaches a decision: intake's read set plus the rules."""
    return IntakeReads(
        reporter_id=actor.id,
        subjects=((cmd.subject_kind, cmd.subject_id),),
        policy_ids=tuple(p for p, _ in cmd.scores),
        idempotency_keys=tuple(k for p, _ in cmd.scores if (k := cmd.report_key(p)) is not None),
        classifier=cmd.classifier,
    )


@pytest.mark.parametrize("optimistic", [True, False], ids=["unlocked", "locked"])
async def test_an_enqueued_signal_on_both_engines(differential: Differential, world: World, optimistic: bool) -> None:
    signal = SubmitSignal(SubjectKind.CONTENT, world.signal_video, CLASSIFIER, ((world.hate, 0.7),), "sig-2")
    audit = audit_of("submitSignal", PLATFORM.id, reason=REASON)

    async def on_sql(side: Side) -> Any:
        async with PostgresUnitOfWork(side.sessions, audit, clock=side.clock) as uow:
            return await submit_signal(uow, PLATFORM, signal)

    async def on_intake(side: Side) -> Any:
        uow = IntakeUnitOfWork(side.pool, audit, signal_reads(PLATFORM, signal), clock=side.clock)
        uow.optimistic = optimistic
        async with uow:
            return await submit_signal(uow, PLATFORM, signal)

    a, b = await differential.run(on_sql, on_intake)
    assert [o.outcome for o in a.results] == [o.outcome for o in b.results] == [SignalOutcome.ENQUEUED]
    assert a.audit_kinds() == [("Case", "insert"), ("Report", "insert")]
