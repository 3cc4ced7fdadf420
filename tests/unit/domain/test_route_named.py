"""A rule's ``open_case(queue=..., priority=...)`` (issue 22): the case moves to the named queue of its region with
at least that priority, which later reports never lower; an unknown queue, or one of another surface, changes
nothing; an escalated case stays with its seniors."""

from __future__ import annotations

from typing import Any

import pytest

from domain.case import Case, CaseState
from domain.errors import DomainError, ErrorCode
from domain.policy import Severity
from domain.queue import Queue, QueueSettings, QueueSurface
from domain.region import Region
from domain.report import ReportSource
from domain.services.queue import DefineQueue, define_queue, route_to_named
from domain.subject import SubjectKind
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork


async def _queue(uow: FakeUnitOfWork, name: str, surface: QueueSurface = QueueSurface.CONTENT, **kw: Any) -> Queue:
    settings = QueueSettings(surface=surface, roles=("moderator",), **kw)
    return await define_queue(uow, b.POLICY_MANAGER, DefineQueue(region=Region.US, name=name, settings=settings))


async def _case(uow: FakeUnitOfWork) -> Case:
    owner = await b.account(uow)
    item = await b.content(uow, owner)
    defined = await b.policy(uow, "SPAM", severity=Severity.LOW)
    report = await b.report(uow, SubjectKind.CONTENT, item.id, defined.policy.id)
    case = await uow.cases.get(report.case_id)
    assert case is not None
    return case


async def test_the_case_moves_to_the_named_queue_with_at_least_that_priority(uow: FakeUnitOfWork) -> None:
    general = await _queue(uow, "general", is_default=True)
    spam = await _queue(uow, "spam", sla_hours=(1, 2, 3, 4))
    case = await _case(uow)
    case.queue_id = general.id
    assert case.priority < 80

    queue = await route_to_named(uow, case, "spam", 80)

    assert (queue.id, case.queue_id, case.priority, case.priority_floor) == (spam.id, spam.id, 80, 80)
    assert case.sla_due_at == spam.sla.due_at(case.created_at, 80)
    case.fold_report(source=ReportSource.USER, severity=Severity.LOW, reach=0, sla=spam.sla, now=uow.clock.now())
    assert case.priority == 80  # re-scoring keeps the floor


async def test_a_higher_priority_is_kept(uow: FakeUnitOfWork) -> None:
    await _queue(uow, "spam")
    case = await _case(uow)
    case.priority = 95
    await route_to_named(uow, case, "spam", 10)
    assert (case.priority, case.priority_floor) == (95, 10)


@pytest.mark.parametrize(
    ("name", "surface", "code"),
    [("nowhere", QueueSurface.CONTENT, ErrorCode.NOT_FOUND), ("ads", QueueSurface.ADS, ErrorCode.INVALID_INPUT)],
)
async def test_an_unknown_or_foreign_queue_changes_nothing(
    uow: FakeUnitOfWork, name: str, surface: QueueSurface, code: ErrorCode
) -> None:
    await _queue(uow, "ads", surface=surface)
    case = await _case(uow)
    before = (case.queue_id, case.priority, case.priority_floor, case.sla_due_at)
    with pytest.raises(DomainError) as refused:
        await route_to_named(uow, case, name, 80)
    assert (refused.value.code, refused.value.field) == (code, "queue")
    assert (case.queue_id, case.priority, case.priority_floor, case.sla_due_at) == before


async def test_an_escalated_case_stays_in_its_queue(uow: FakeUnitOfWork) -> None:
    seniors = await _queue(uow, "seniors")
    await _queue(uow, "spam")
    case = await _case(uow)
    case.state, case.queue_id = CaseState.ESCALATED, seniors.id
    with pytest.raises(DomainError) as refused:
        await route_to_named(uow, case, "spam", 80)
    assert refused.value.code is ErrorCode.INVALID_STATE
    assert case.queue_id == seniors.id
