"""Rule 7: appeals."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.account import Account, AccountStatus
from domain.appeal import AppealState
from domain.clock import FixedClock
from domain.config import DomainConfig
from domain.content import Visibility
from domain.decision import Verdict
from domain.enforcement import ActionKind, ActionSource, RequestedAction
from domain.errors import DomainError, ErrorCode
from domain.services.appeal import DecideAppeal, FileAppeal, decide_appeal, file_appeal
from domain.services.decision import DecideCase, DecideResult, decide_case
from domain.strike import StrikeStatus
from domain.subject import SubjectKind
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork

REMOVE = (RequestedAction(ActionKind.REMOVE_CONTENT),)


async def _decided(uow: FakeUnitOfWork) -> tuple[Account, DecideResult]:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    return owner, await b.violate(uow, await b.content(uow, owner), hate.policy.id, actions=REMOVE)


def _file(result: DecideResult, account_id: uuid.UUID) -> FileAppeal:
    return FileAppeal(
        decision_id=result.decision.id, appellant_account_id=account_id, statement="It was satire, not hate."
    )


def _decide(appeal_id: uuid.UUID, outcome: AppealState) -> DecideAppeal:
    return DecideAppeal(appeal_id=appeal_id, outcome=outcome, rationale="Reviewed context of the clip.")


async def test_owner_files_an_appeal(uow: FakeUnitOfWork) -> None:
    owner, result = await _decided(uow)
    appeal = await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    assert appeal.state is AppealState.PENDING
    assert appeal.region is result.decision.region
    assert appeal.filed_at == b.T0
    assert appeal.filed_by == b.PLATFORM.id


async def test_not_violating_decision_cannot_be_appealed(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    video = await b.content(uow, owner)
    filed = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id)
    cmd = DecideCase(case_id=filed.case_id, verdict=Verdict.NOT_VIOLATING, policy_id=hate.policy.id, rationale="ok")
    result = await decide_case(uow, b.MODERATOR, cmd)
    with pytest.raises(DomainError) as raised:
        await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    assert raised.value.code is ErrorCode.INVALID_STATE


async def test_only_the_affected_account_may_appeal(uow: FakeUnitOfWork) -> None:
    _, result = await _decided(uow)
    stranger = await b.account(uow)
    with pytest.raises(DomainError) as raised:
        await file_appeal(uow, b.PLATFORM, _file(result, stranger.id))
    assert (raised.value.code, raised.value.field) == (ErrorCode.FORBIDDEN, "appellantAccountId")
    assert uow.appeals.all() == []


async def test_appeal_window(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    owner, result = await _decided(uow)
    clock.advance(timedelta(days=180, seconds=1))
    with pytest.raises(DomainError) as raised:
        await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    assert raised.value.code is ErrorCode.INVALID_STATE
    longer = DomainConfig(appeal_window=timedelta(days=365))
    appeal = await file_appeal(uow, b.PLATFORM, _file(result, owner.id), longer)
    assert appeal.state is AppealState.PENDING


async def test_once_per_decision(uow: FakeUnitOfWork) -> None:
    owner, result = await _decided(uow)
    await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    with pytest.raises(DomainError) as raised:
        await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    assert raised.value.code is ErrorCode.CONFLICT
    assert len(uow.appeals.all()) == 1


@pytest.mark.parametrize("statement", ["", "x" * 10_001])
async def test_statement_is_validated(uow: FakeUnitOfWork, statement: str) -> None:
    owner, result = await _decided(uow)
    cmd = FileAppeal(decision_id=result.decision.id, appellant_account_id=owner.id, statement=statement)
    with pytest.raises(DomainError) as raised:
        await file_appeal(uow, b.PLATFORM, cmd)
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "statement")


async def test_unknown_decision(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    cmd = FileAppeal(decision_id=uuid.uuid4(), appellant_account_id=owner.id, statement="s")
    with pytest.raises(DomainError) as raised:
        await file_appeal(uow, b.PLATFORM, cmd)
    assert (raised.value.code, raised.value.field) == (ErrorCode.NOT_FOUND, "decisionId")


async def test_original_decider_cannot_decide_the_appeal(uow: FakeUnitOfWork) -> None:
    owner, result = await _decided(uow)
    appeal = await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    before = uow.snapshot()
    with pytest.raises(DomainError) as raised:
        await decide_appeal(uow, b.MODERATOR, _decide(appeal.id, AppealState.OVERTURNED))
    assert raised.value.code is ErrorCode.FORBIDDEN
    assert uow.snapshot() == before


async def test_appeal_decider_must_be_as_senior(uow: FakeUnitOfWork) -> None:
    owner, result = await _decided(uow)
    appeal = await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    with pytest.raises(DomainError) as raised:
        await decide_appeal(uow, b.VENDOR, _decide(appeal.id, AppealState.OVERTURNED))
    assert raised.value.code is ErrorCode.FORBIDDEN
    decided = await decide_appeal(uow, b.MODERATOR_2, _decide(appeal.id, AppealState.UPHELD))
    assert decided.appeal.state is AppealState.UPHELD


async def test_upheld_changes_only_the_appeal(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    owner, result = await _decided(uow)
    appeal = await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    clock.advance(timedelta(days=2))
    before = uow.snapshot()

    decided = await decide_appeal(uow, b.SENIOR, _decide(appeal.id, AppealState.UPHELD))

    after = uow.snapshot()
    assert {k: v for k, v in after.items() if k != "appeals"} == {k: v for k, v in before.items() if k != "appeals"}
    assert decided.appeal.state is AppealState.UPHELD
    assert decided.appeal.decider_id == b.SENIOR.id
    assert decided.appeal.decider_seniority == b.SENIOR.seniority
    assert decided.appeal.decided_at == clock.now()
    assert decided.reversed_actions == ()


async def test_overturned_reverses_actions_and_strike(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    owner, result = await _decided(uow)
    appeal = await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    clock.advance(timedelta(days=2))

    decided = await decide_appeal(uow, b.SENIOR, _decide(appeal.id, AppealState.OVERTURNED))

    assert decided.appeal.state is AppealState.OVERTURNED
    assert decided.decision.overturned_at == clock.now()
    strike = result.strikes[0]
    assert strike.status is StrikeStatus.REVERSED
    assert strike.reversed_at == clock.now()
    assert {a.kind for a in decided.reversed_actions} == {ActionKind.REMOVE_CONTENT, ActionKind.WARN}
    assert all(a.reversed_at == clock.now() for a in result.actions)
    video = await uow.contents.get(result.decision.subject_id)
    assert video is not None
    assert video.visibility is Visibility.VISIBLE


async def test_appeal_decided_twice_is_invalid_state(uow: FakeUnitOfWork) -> None:
    owner, result = await _decided(uow)
    appeal = await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    await decide_appeal(uow, b.SENIOR, _decide(appeal.id, AppealState.UPHELD))
    with pytest.raises(DomainError) as raised:
        await decide_appeal(uow, b.SENIOR_2, _decide(appeal.id, AppealState.OVERTURNED))
    assert raised.value.code is ErrorCode.INVALID_STATE


async def test_pending_is_not_an_outcome(uow: FakeUnitOfWork) -> None:
    owner, result = await _decided(uow)
    appeal = await file_appeal(uow, b.PLATFORM, _file(result, owner.id))
    with pytest.raises(DomainError) as raised:
        await decide_appeal(uow, b.SENIOR, _decide(appeal.id, AppealState.PENDING))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "outcome")


async def test_unknown_appeal(uow: FakeUnitOfWork) -> None:
    with pytest.raises(DomainError) as raised:
        await decide_appeal(uow, b.SENIOR, _decide(uuid.uuid4(), AppealState.UPHELD))
    assert (raised.value.code, raised.value.field) == (ErrorCode.NOT_FOUND, "appealId")


async def _three_strikes(uow: FakeUnitOfWork, clock: FixedClock) -> tuple[Account, list[DecideResult]]:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    results = []
    for _ in range(3):
        results.append(await b.violate(uow, await b.content(uow, owner), hate.policy.id, actions=REMOVE))
        clock.advance(timedelta(days=1))
    return owner, results


async def test_overturning_the_ban_restores_a_restriction_still_in_force(
    uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    owner, results = await _three_strikes(uow, clock)  # restriction day 1 → day 8; ban day 2; now day 3
    assert owner.status is AccountStatus.BANNED
    appeal = await file_appeal(uow, b.PLATFORM, _file(results[2], owner.id))

    await decide_appeal(uow, b.SENIOR, _decide(appeal.id, AppealState.OVERTURNED))

    after = await uow.accounts.get(owner.id)
    assert after is not None
    assert after.status is AccountStatus.RESTRICTED
    assert after.status_until == b.T0 + timedelta(days=8)


async def test_overturning_the_ban_after_the_restriction_ended_leaves_account_active(
    uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    owner, results = await _three_strikes(uow, clock)
    appeal = await file_appeal(uow, b.PLATFORM, _file(results[2], owner.id))
    clock.advance(timedelta(days=10))

    decided = await decide_appeal(uow, b.SENIOR, _decide(appeal.id, AppealState.OVERTURNED))

    assert owner.status is AccountStatus.ACTIVE
    assert owner.status_until is None
    assert decided.added_actions == ()


async def test_overturning_a_middle_strike_reevaluates_later_ones(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    owner, results = await _three_strikes(uow, clock)
    appeal = await file_appeal(uow, b.PLATFORM, _file(results[1], owner.id))

    decided = await decide_appeal(uow, b.SENIOR, _decide(appeal.id, AppealState.OVERTURNED))

    reversed_kinds = sorted(a.kind.value for a in decided.reversed_actions)
    assert reversed_kinds == ["BAN_ACCOUNT", "REMOVE_CONTENT", "RESTRICT_FEATURES"]
    assert [(a.kind, a.source, a.strike_id) for a in decided.added_actions] == [
        (ActionKind.RESTRICT_FEATURES, ActionSource.LADDER, results[2].strikes[0].id)
    ]
    assert owner.status is AccountStatus.RESTRICTED
    assert owner.status_until == b.T0 + timedelta(days=2 + 7)
