"""Rule 3 and 8: deciding a case."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.account import AccountStatus
from domain.actor import ActorKind
from domain.case import CaseState
from domain.content import Visibility
from domain.decision import Verdict
from domain.enforcement import ActionKind, ActionSource, RequestedAction
from domain.errors import DomainError, ErrorCode
from domain.policy import Severity
from domain.services.case import EscalateCase, escalate_case
from domain.services.decision import DecideCase, decide_case
from domain.strike import StrikeStatus
from domain.subject import SubjectKind, Surface
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork

REMOVE = RequestedAction(ActionKind.REMOVE_CONTENT)


async def _open_case(uow: FakeUnitOfWork) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    """(case id, content id, owner id, hate policy id)"""
    owner = await b.account(uow)
    video = await b.content(uow, owner)
    hate = await b.policy(uow)
    filed = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id)
    return filed.case_id, video.id, owner.id, hate.policy.id


def _cmd(
    case_id: uuid.UUID,
    policy_id: uuid.UUID,
    verdict: Verdict = Verdict.VIOLATING,
    actions: tuple[RequestedAction, ...] = (REMOVE,),
    rationale: str = "Dehumanising slur aimed at a protected group.",
) -> DecideCase:
    return DecideCase(case_id=case_id, verdict=verdict, policy_id=policy_id, rationale=rationale, actions=actions)


async def test_violating_decision_removes_content_and_strikes_owner(uow: FakeUnitOfWork) -> None:
    case_id, video_id, owner_id, policy_id = await _open_case(uow)

    result = await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id))

    assert result.case.state is CaseState.DECIDED
    assert result.case.decision_id == result.decision.id
    assert result.decision.verdict is Verdict.VIOLATING
    assert result.decision.decider_id == b.MODERATOR.id
    assert result.decision.automated is False
    assert result.decision.subject_account_id == owner_id
    video = await uow.contents.get(video_id)
    assert video is not None
    assert video.visibility is Visibility.REMOVED
    assert [s.account_id for s in result.strikes] == [owner_id]
    assert result.strikes[0].weight == 1
    assert result.strikes[0].status_at(b.T0) is StrikeStatus.ACTIVE
    kinds = {(a.kind, a.source) for a in result.actions}
    assert kinds == {(ActionKind.REMOVE_CONTENT, ActionSource.DECISION), (ActionKind.WARN, ActionSource.LADDER)}


async def test_decision_cites_the_current_policy_version(uow: FakeUnitOfWork) -> None:
    case_id, _, _, policy_id = await _open_case(uow)
    v2 = await b.policy(uow, severity=Severity.MEDIUM, weight=2, ttl_days=30)
    assert v2.version.number == 2

    result = await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id))

    assert result.decision.policy_version_id == v2.version.id
    assert result.decision.policy_id == policy_id
    assert result.strikes[0].weight == 2
    assert result.strikes[0].expires_at == b.T0 + v2.version.strike_ttl


async def test_not_violating_decides_case_without_action(uow: FakeUnitOfWork) -> None:
    case_id, video_id, _, policy_id = await _open_case(uow)

    result = await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id, Verdict.NOT_VIOLATING, ()))

    assert result.case.state is CaseState.DECIDED
    assert result.actions == ()
    assert result.strikes == ()
    assert uow.strikes.all() == []
    assert uow.actions.all() == []
    video = await uow.contents.get(video_id)
    assert video is not None
    assert video.visibility is Visibility.VISIBLE


async def test_not_violating_with_actions_is_invalid(uow: FakeUnitOfWork) -> None:
    case_id, _, _, policy_id = await _open_case(uow)
    before = uow.snapshot()
    with pytest.raises(DomainError) as raised:
        await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id, Verdict.NOT_VIOLATING))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "actions")
    assert uow.snapshot() == before


async def test_deciding_a_decided_case_is_a_conflict(uow: FakeUnitOfWork) -> None:
    """The second of two moderators who opened the same case learns someone else decided it first."""
    case_id, _, _, policy_id = await _open_case(uow)
    await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id))
    before = uow.snapshot()

    with pytest.raises(DomainError) as raised:
        await decide_case(uow, b.MODERATOR_2, _cmd(case_id, policy_id))

    assert raised.value.code is ErrorCode.CONFLICT
    assert uow.snapshot() == before


async def test_ad_action_on_content_case_is_invalid(uow: FakeUnitOfWork) -> None:
    case_id, _, _, policy_id = await _open_case(uow)
    before = uow.snapshot()
    reject = RequestedAction(ActionKind.REJECT_AD)
    with pytest.raises(DomainError) as raised:
        await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id, actions=(reject,)))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "actions")
    assert uow.snapshot() == before


async def test_content_action_on_account_case_is_invalid(uow: FakeUnitOfWork) -> None:
    target = await b.account(uow)
    hate = await b.policy(uow)
    filed = await b.report(uow, SubjectKind.ACCOUNT, target.id, hate.policy.id)
    with pytest.raises(DomainError) as raised:
        await decide_case(uow, b.MODERATOR, _cmd(filed.case_id, hate.policy.id, actions=(REMOVE,)))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "actions")


async def test_account_actions_on_content_case_target_the_owner(uow: FakeUnitOfWork) -> None:
    case_id, _, owner_id, policy_id = await _open_case(uow)
    suspend = RequestedAction(ActionKind.SUSPEND_ACCOUNT, duration_days=14)

    result = await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id, actions=(REMOVE, suspend)))

    action = next(a for a in result.actions if a.kind is ActionKind.SUSPEND_ACCOUNT)
    assert (action.target_kind, action.target_id) == (SubjectKind.ACCOUNT, owner_id)
    owner = await uow.accounts.get(owner_id)
    assert owner is not None
    assert owner.status is AccountStatus.SUSPENDED
    assert owner.status_until == b.T0 + timedelta(days=14)


async def test_ban_on_account_case(uow: FakeUnitOfWork) -> None:
    target = await b.account(uow)
    impersonation = await b.policy(uow, "IMPERSONATION", surface=Surface.ACCOUNT)
    filed = await b.report(uow, SubjectKind.ACCOUNT, target.id, impersonation.policy.id)
    ban = RequestedAction(ActionKind.BAN_ACCOUNT)

    await decide_case(uow, b.MODERATOR, _cmd(filed.case_id, impersonation.policy.id, actions=(ban,)))

    assert target.status is AccountStatus.BANNED
    assert target.status_until is None


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (RequestedAction(ActionKind.RESTRICT_FEATURES), "needs a duration"),
        (RequestedAction(ActionKind.WARN, duration_days=3), "takes no duration"),
        (RequestedAction(ActionKind.SUSPEND_ACCOUNT, duration_days=0), "between"),
    ],
)
async def test_action_durations_are_validated(uow: FakeUnitOfWork, action: RequestedAction, message: str) -> None:
    case_id, _, _, policy_id = await _open_case(uow)
    with pytest.raises(DomainError, match=message) as raised:
        await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id, actions=(action,)))
    assert raised.value.code is ErrorCode.INVALID_INPUT


async def test_repeated_action_kind_is_invalid(uow: FakeUnitOfWork) -> None:
    case_id, _, _, policy_id = await _open_case(uow)
    with pytest.raises(DomainError) as raised:
        await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id, actions=(REMOVE, REMOVE)))
    assert raised.value.code is ErrorCode.INVALID_INPUT


async def test_policy_surface_must_match_case(uow: FakeUnitOfWork) -> None:
    case_id, _, _, _ = await _open_case(uow)
    ads = await b.policy(uow, "MISLEADING_AD_CLAIMS", surface=Surface.ADS)
    before = uow.snapshot()
    with pytest.raises(DomainError) as raised:
        await decide_case(uow, b.MODERATOR, _cmd(case_id, ads.policy.id))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "policyId")
    assert uow.snapshot() == before


async def test_unknown_case_and_policy(uow: FakeUnitOfWork) -> None:
    case_id, _, _, policy_id = await _open_case(uow)
    with pytest.raises(DomainError) as no_case:
        await decide_case(uow, b.MODERATOR, _cmd(uuid.uuid4(), policy_id))
    with pytest.raises(DomainError) as no_policy:
        await decide_case(uow, b.MODERATOR, _cmd(case_id, uuid.uuid4()))
    assert (no_case.value.code, no_case.value.field) == (ErrorCode.NOT_FOUND, "caseId")
    assert (no_policy.value.code, no_policy.value.field) == (ErrorCode.NOT_FOUND, "policyId")


@pytest.mark.parametrize("rationale", ["", "   ", "x" * 5001])
async def test_rationale_is_required_and_bounded(uow: FakeUnitOfWork, rationale: str) -> None:
    case_id, _, _, policy_id = await _open_case(uow)
    before = uow.snapshot()
    with pytest.raises(DomainError) as raised:
        await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id, rationale=rationale))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "rationale")
    assert uow.snapshot() == before


async def test_escalated_case_needs_senior(uow: FakeUnitOfWork) -> None:
    case_id, _, _, policy_id = await _open_case(uow)
    await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=case_id, reason="Newsworthy; needs policy input."))
    before = uow.snapshot()

    with pytest.raises(DomainError) as raised:
        await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id))
    assert raised.value.code is ErrorCode.FORBIDDEN
    assert uow.snapshot() == before

    result = await decide_case(uow, b.SENIOR, _cmd(case_id, policy_id))
    assert result.case.state is CaseState.DECIDED
    assert result.decision.decider_seniority == b.SENIOR.seniority


async def test_automated_decision_is_marked(uow: FakeUnitOfWork) -> None:
    case_id, _, _, policy_id = await _open_case(uow)
    result = await decide_case(uow, b.BOT, _cmd(case_id, policy_id))
    assert result.decision.automated is True
    assert result.decision.decider_kind is ActorKind.AUTOMATION


async def test_entities_expose_version_for_optimistic_concurrency(uow: FakeUnitOfWork) -> None:
    case_id, _, _, policy_id = await _open_case(uow)
    result = await decide_case(uow, b.MODERATOR, _cmd(case_id, policy_id))
    assert result.case.version == 1  # the unit of work bumps it on commit, not the domain
    assert result.decision.version == 1
    assert result.case.updated_at == b.T0
