"""Rerouting (issue 14, point 8): open cases that wait outside any queue join the queue routing picks now, with
that queue's SLA; cases already queued, or no longer open, are left alone."""

from __future__ import annotations

from typing import Any

import pytest

from domain.case import Case, CaseState
from domain.errors import DomainError, ErrorCode
from domain.policy import Severity
from domain.queue import Queue, QueueSettings, QueueSurface
from domain.region import Region
from domain.services.queue import (
    DefineQueue,
    RerouteCases,
    UnqueuedCase,
    UnqueuedCases,
    define_queue,
    reroute_cases,
)
from domain.subject import SubjectKind
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork


async def _waiting_case(uow: FakeUnitOfWork, code: str = "HATE_SPEECH") -> tuple[Case, str]:
    owner = await b.account(uow)
    item = await b.content(uow, owner)
    defined = await b.policy(uow, code, severity=Severity.HIGH)
    report = await b.report(uow, SubjectKind.CONTENT, item.id, defined.policy.id)
    case = await uow.cases.get(report.case_id)
    assert case is not None
    assert case.queue_id is None
    return case, code


def _finder(items: list[tuple[Case, str]]) -> UnqueuedCases:
    async def find(region: Region, limit: int) -> list[UnqueuedCase]:
        waiting = [UnqueuedCase(c, code) for c, code in items if c.region is region and c.queue_id is None]
        return waiting[:limit]

    return find


async def _queue(uow: FakeUnitOfWork, name: str, **settings: Any) -> Queue:
    queue_settings = QueueSettings(surface=QueueSurface.CONTENT, roles=("moderator",), **settings)
    return await define_queue(uow, b.POLICY_MANAGER, DefineQueue(region=Region.US, name=name, settings=queue_settings))


async def test_waiting_cases_join_the_queue_routing_picks_now(uow: FakeUnitOfWork) -> None:
    hate, hate_code = await _waiting_case(uow, "HATE_SPEECH")
    spam, spam_code = await _waiting_case(uow, "SPAM")
    before = hate.sla_due_at
    rule = await _queue(uow, "hate", policies=("HATE_SPEECH",), routing_rank=1, sla_hours=(1, 1, 1, 1))
    default = await _queue(uow, "general", is_default=True)

    outcome = await reroute_cases(
        uow, b.POLICY_MANAGER, RerouteCases(region=Region.US), _finder([(hate, hate_code), (spam, spam_code)])
    )

    assert [c.id for c in outcome.routed] == [hate.id, spam.id]
    assert outcome.unmatched == 0
    assert hate.queue_id == rule.id
    assert spam.queue_id == default.id
    assert hate.sla_due_at < before
    assert hate.sla_due_at == rule.sla.due_at(hate.created_at, hate.priority)  # the queue's SLA, from its opening


async def test_cases_no_queue_takes_keep_waiting(uow: FakeUnitOfWork) -> None:
    case, code = await _waiting_case(uow)
    await _queue(uow, "spam-only", policies=("SPAM",), routing_rank=1)

    outcome = await reroute_cases(uow, b.POLICY_MANAGER, RerouteCases(region=Region.US), _finder([(case, code)]))

    assert (outcome.routed, outcome.unmatched) == ([], 1)
    assert case.queue_id is None


@pytest.mark.parametrize("limit", [0, 1001])
async def test_the_limit_is_checked(uow: FakeUnitOfWork, limit: int) -> None:
    with pytest.raises(DomainError) as refused:
        await reroute_cases(uow, b.POLICY_MANAGER, RerouteCases(region=Region.US, limit=limit), _finder([]))
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, "limit")


async def test_only_open_unqueued_cases_can_be_routed(uow: FakeUnitOfWork) -> None:
    case, _ = await _waiting_case(uow)
    queue = await _queue(uow, "general", is_default=True)
    case.route_to(queue.id, queue.sla, uow.clock.now())

    with pytest.raises(DomainError) as again:
        case.route_to(queue.id, queue.sla, uow.clock.now())
    assert again.value.code is ErrorCode.CONFLICT

    case.state = CaseState.CLOSED
    case.queue_id = None
    with pytest.raises(DomainError) as closed:
        case.route_to(queue.id, queue.sla, uow.clock.now())
    assert closed.value.code is ErrorCode.INVALID_STATE
