"""Rule 11 and the case workflow: claim (lease), escalate, close."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.case import Case, CaseState
from domain.clock import FixedClock
from domain.decision import Verdict
from domain.errors import DomainError, ErrorCode
from domain.services.case import ClaimCase, CloseCase, EscalateCase, claim_case, close_case, escalate_case
from domain.services.decision import DecideCase, decide_case
from domain.subject import SubjectKind
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork


async def _case(uow: FakeUnitOfWork) -> tuple[Case, uuid.UUID]:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    filed = await b.report(uow, SubjectKind.CONTENT, (await b.content(uow, owner)).id, hate.policy.id)
    case = await uow.cases.get(filed.case_id)
    assert case is not None
    return case, hate.policy.id


def _decide(case: Case, policy_id: uuid.UUID) -> DecideCase:
    return DecideCase(case_id=case.id, verdict=Verdict.NOT_VIOLATING, policy_id=policy_id, rationale="Fine.")


async def test_escalate_open_case(uow: FakeUnitOfWork) -> None:
    case, _ = await _case(uow)
    await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=case.id, reason="Public figure; newsworthy."))
    assert case.state is CaseState.ESCALATED
    assert case.escalation_reason == "Public figure; newsworthy."


async def test_escalate_assigned_case_releases_the_lease(uow: FakeUnitOfWork) -> None:
    case, _ = await _case(uow)
    await claim_case(uow, b.MODERATOR, ClaimCase(case_id=case.id))
    await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=case.id, reason="Hard call."))
    assert case.state is CaseState.ESCALATED
    assert (case.assignee_id, case.lease_expires_at) == (None, None)


@pytest.mark.parametrize("reason", ["", "r" * 5001])
async def test_escalation_reason_is_validated(uow: FakeUnitOfWork, reason: str) -> None:
    case, _ = await _case(uow)
    with pytest.raises(DomainError) as raised:
        await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=case.id, reason=reason))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "reason")
    assert case.state is CaseState.OPEN


async def test_escalating_twice_or_after_decision_is_invalid_state(uow: FakeUnitOfWork) -> None:
    case, policy_id = await _case(uow)
    await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=case.id, reason="Hard."))
    with pytest.raises(DomainError) as twice:
        await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=case.id, reason="Again."))
    await decide_case(uow, b.SENIOR, _decide(case, policy_id))
    with pytest.raises(DomainError) as decided:
        await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=case.id, reason="Late."))
    assert twice.value.code is ErrorCode.INVALID_STATE
    assert decided.value.code is ErrorCode.INVALID_STATE


async def test_unknown_case(uow: FakeUnitOfWork) -> None:
    with pytest.raises(DomainError) as raised:
        await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=uuid.uuid4(), reason="x"))
    assert (raised.value.code, raised.value.field) == (ErrorCode.NOT_FOUND, "caseId")


async def test_claim_assigns_with_a_lease(uow: FakeUnitOfWork) -> None:
    case, _ = await _case(uow)
    await claim_case(uow, b.MODERATOR, ClaimCase(case_id=case.id))
    assert case.state is CaseState.ASSIGNED
    assert case.assignee_id == b.MODERATOR.id
    assert case.lease_expires_at == b.T0 + timedelta(minutes=15)


async def test_no_two_moderators_hold_one_case(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    case, policy_id = await _case(uow)
    await claim_case(uow, b.MODERATOR, ClaimCase(case_id=case.id))
    with pytest.raises(DomainError) as claim:
        await claim_case(uow, b.MODERATOR_2, ClaimCase(case_id=case.id))
    with pytest.raises(DomainError) as decide:
        await decide_case(uow, b.MODERATOR_2, _decide(case, policy_id))
    assert claim.value.code is ErrorCode.CONFLICT
    assert decide.value.code is ErrorCode.CONFLICT
    assert case.assignee_id == b.MODERATOR.id


async def test_abandoned_lease_lapses(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    case, _ = await _case(uow)
    await claim_case(uow, b.MODERATOR, ClaimCase(case_id=case.id))
    clock.advance(timedelta(minutes=16))
    await claim_case(uow, b.MODERATOR_2, ClaimCase(case_id=case.id))
    assert case.assignee_id == b.MODERATOR_2.id


async def test_escalated_case_claimable_by_seniors_only(uow: FakeUnitOfWork) -> None:
    case, _ = await _case(uow)
    await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=case.id, reason="Hard."))
    with pytest.raises(DomainError) as raised:
        await claim_case(uow, b.MODERATOR_2, ClaimCase(case_id=case.id))
    assert raised.value.code is ErrorCode.FORBIDDEN
    await claim_case(uow, b.SENIOR, ClaimCase(case_id=case.id))
    assert case.state is CaseState.ESCALATED
    assert case.assignee_id == b.SENIOR.id


async def test_close_only_decided_cases(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    case, policy_id = await _case(uow)
    with pytest.raises(DomainError) as raised:
        await close_case(uow, b.MODERATOR, CloseCase(case_id=case.id))
    assert raised.value.code is ErrorCode.INVALID_STATE
    await decide_case(uow, b.MODERATOR, _decide(case, policy_id))
    clock.advance(timedelta(days=1))
    await close_case(uow, b.MODERATOR, CloseCase(case_id=case.id))
    assert case.state is CaseState.CLOSED
    assert case.closed_at == clock.now()
    assert case.decided_at == b.T0
