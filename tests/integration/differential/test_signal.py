"""submitSignal runs on the SQL unit of work only; the AUTOMATED report it files when a score is enqueued must be
the report intake's engine files for the same report: the same rows, audit and outbox events."""

from __future__ import annotations

from typing import Any

from domain.actor import Actor, ActorKind
from domain.report import ReportSource
from domain.services.automation import SignalOutcome, SubmitSignal, submit_signal
from domain.services.report import IntakeReads, SubmitReport, submit_report
from domain.subject import SubjectKind
from persistence.intake import IntakeUnitOfWork
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
