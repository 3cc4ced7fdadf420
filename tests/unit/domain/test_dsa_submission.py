"""The rules of a submission run: a batch is taken IN_FLIGHT, settled from the database's answer, and what a dead
run left in flight is reconciled by puid."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.clock import FixedClock
from domain.dsa.services.submission import BatchAnswer, reconcile, settle, take_batch
from domain.dsa.statement import StatementOfReasons, SubmissionState
from domain.errors import DomainError
from domain.region import Region
from tests.unit.domain.fakes import FakeUnitOfWork
from tests.unit.domain.test_statement import VALID


def _add(uow: FakeUnitOfWork, clock: FixedClock, n: int) -> list[StatementOfReasons]:
    added = []
    for i in range(n):
        now = clock.now() + timedelta(seconds=i)
        puid = f"vigil-{i}"
        statement = StatementOfReasons(
            region=Region.EU,
            decision_id=uuid.uuid4(),
            puid=puid,
            fields={**VALID, "puid": puid},
            created_at=now,
            updated_at=now,
        )
        uow.statements_of_reasons.add(statement)
        added.append(statement)
    return added


async def test_a_batch_takes_the_oldest_pending_in_flight(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    statements = _add(uow, clock, 5)
    batch, rejected = await take_batch(uow, 3, clock.now())
    assert (batch, rejected) == (statements[:3], 0)
    assert {s.submission for s in batch} == {SubmissionState.IN_FLIGHT}
    assert len({s.batch_id for s in batch}) == 1
    assert statements[3].submission is SubmissionState.PENDING
    with pytest.raises(DomainError):
        batch[0].send_in(batch[0].batch_id, clock.now())  # type: ignore[arg-type]  # never in two batches


async def test_a_statement_the_rules_refuse_is_rejected_unsent(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    broken, fine = _add(uow, clock, 2)
    broken.fields = {**broken.fields, "territorial_scope": ["EU"]}
    batch, rejected = await take_batch(uow, 10, clock.now())
    assert (batch, rejected) == ([fine], 1)
    assert broken.submission is SubmissionState.REJECTED
    assert broken.rejection == ("not sent: territorial_scope: The selected territorial scope is invalid.",)


async def test_settling_an_answer(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    accepted, duplicate, refused, untouched, unknown = _add(uow, clock, 5)
    batch, _ = await take_batch(uow, 5, clock.now())
    answer = BatchAnswer(
        refused={refused.puid: ["decision_facts: personal data"]},
        duplicates=frozenset({duplicate.puid, unknown.puid}),
    )
    found = {duplicate.puid: "uuid-dup", unknown.puid: None}
    tally = settle(batch, answer, found, clock.now())
    assert (tally.submitted, tally.rejected) == (1, 1)
    assert (duplicate.submission, duplicate.database_id) == (SubmissionState.SUBMITTED, "uuid-dup")
    assert (refused.submission, refused.rejection) == (SubmissionState.REJECTED, ("decision_facts: personal data",))
    for statement in (accepted, untouched, unknown):  # the batch was refused whole: they go again
        assert (statement.submission, statement.batch_id) == (SubmissionState.PENDING, None)

    again, _ = await take_batch(uow, 5, clock.now())
    tally = settle(again, BatchAnswer(accepted={s.puid: f"id-{s.puid}" for s in again}), {}, clock.now())
    assert tally.submitted == 3
    assert accepted.database_id == "id-vigil-0"
    assert accepted.submitted_at == clock.now()


async def test_reconcile_settles_a_dead_runs_batch_by_puid(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    arrived, lost = _add(uow, clock, 2)
    batch, _ = await take_batch(uow, 2, clock.now())
    held = reconcile(batch, {arrived.puid: "uuid-1", lost.puid: None}, clock.now())
    assert held == 1
    assert (arrived.submission, arrived.database_id) == (SubmissionState.SUBMITTED, "uuid-1")
    assert lost.submission is SubmissionState.PENDING
