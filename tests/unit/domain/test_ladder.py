"""Rule 4: the strike ladder, per surface, with expiry read from the clock."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.account import AccountStatus
from domain.clock import FixedClock
from domain.config import DomainConfig
from domain.decision import Verdict
from domain.enforcement import ActionKind, ActionSource, EnforcementAction
from domain.ladder import ADS_LADDER, CONTENT_LADDER, LadderStep, StrikeLadder, ladder_for, reevaluate
from domain.policy import PolicyVersion, Severity
from domain.region import Region
from domain.services.decision import DecideCase, decide_case
from domain.strike import Strike, StrikeStatus
from domain.subject import SubjectKind, Surface
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork


def _version(severity: Severity = Severity.HIGH, weight: int = 1, ttl: int = 90) -> PolicyVersion:
    return PolicyVersion(
        policy_id=uuid.uuid4(),
        number=1,
        severity=severity,
        strike_weight=weight,
        strike_ttl_days=ttl,
        dsa_category="X",
        description="d",
        published_at=b.T0,
        published_by="pm",
        created_at=b.T0,
        updated_at=b.T0,
    )


def _strike(account: uuid.UUID, days_after_t0: int, surface: Surface = Surface.CONTENT) -> Strike:
    return Strike.issue(
        region=Region.US,
        account_id=account,
        decision_id=uuid.uuid4(),
        surface=surface,
        version=_version(),
        now=b.T0 + timedelta(days=days_after_t0),
    )


async def test_content_ladder_warns_restricts_then_bans(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    steps = []
    for _ in range(3):
        video = await b.content(uow, owner)
        result = await b.violate(uow, video, hate.policy.id)
        steps.append([a for a in result.actions if a.source is ActionSource.LADDER])
        clock.advance(timedelta(days=10))

    assert [[a.kind for a in s] for s in steps] == [
        [ActionKind.WARN],
        [ActionKind.RESTRICT_FEATURES],
        [ActionKind.BAN_ACCOUNT],
    ]
    restrict = steps[1][0]
    assert restrict.duration == timedelta(days=7)
    assert restrict.strike_id is not None
    assert restrict.target_id == owner.id
    assert owner.status is AccountStatus.BANNED


async def test_restriction_sets_status_until(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    await b.violate(uow, await b.content(uow, owner), hate.policy.id)
    clock.advance(timedelta(days=1))
    await b.violate(uow, await b.content(uow, owner), hate.policy.id)

    assert owner.status is AccountStatus.RESTRICTED
    assert owner.status_until == clock.now() + timedelta(days=7)


async def test_severe_policy_bans_at_once(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    csam = await b.policy(uow, "MINOR_SAFETY", severity=Severity.SEVERE)

    result = await b.violate(uow, await b.content(uow, owner), csam.policy.id)

    assert [a.kind for a in result.actions if a.source is ActionSource.LADDER] == [ActionKind.BAN_ACCOUNT]
    assert owner.status is AccountStatus.BANNED


async def test_expired_strikes_stop_counting_without_a_job(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    first = await b.violate(uow, await b.content(uow, owner), hate.policy.id)
    clock.advance(timedelta(days=10))
    await b.violate(uow, await b.content(uow, owner), hate.policy.id)
    clock.advance(timedelta(days=85))  # first strike (day 0) expired at day 90; second still active

    third = await b.violate(uow, await b.content(uow, owner), hate.policy.id)

    assert first.strikes[0].status_at(clock.now()) is StrikeStatus.EXPIRED
    assert first.strikes[0].status is StrikeStatus.ACTIVE  # stored status untouched
    assert [a.kind for a in third.actions if a.source is ActionSource.LADDER] == [ActionKind.RESTRICT_FEATURES]


async def test_heavier_strike_climbs_further(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    heavy = await b.policy(uow, "VIOLENT_EXTREMISM", weight=2)
    result = await b.violate(uow, await b.content(uow, owner), heavy.policy.id)
    assert [a.kind for a in result.actions if a.source is ActionSource.LADDER] == [ActionKind.RESTRICT_FEATURES]


async def test_weightless_strike_never_climbs(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    label_only = await b.policy(uow, "SYNTHETIC_MEDIA", severity=Severity.LOW, weight=0)
    result = await b.violate(uow, await b.content(uow, owner), label_only.policy.id)
    assert len(result.strikes) == 1
    assert [a for a in result.actions if a.source is ActionSource.LADDER] == []


async def test_ladder_is_configurable(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    strict = StrikeLadder(
        surfaces=(Surface.CONTENT,),
        steps=(LadderStep(1, ActionKind.SUSPEND_ACCOUNT, 2),),
        window_days=30,
    )
    config = DomainConfig(ladders=(strict, ADS_LADDER))
    owner = await b.account(uow)
    hate = await b.policy(uow)
    video = await b.content(uow, owner)
    filed = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id)
    cmd = DecideCase(case_id=filed.case_id, verdict=Verdict.VIOLATING, policy_id=hate.policy.id, rationale="r")

    result = await decide_case(uow, b.MODERATOR, cmd, config)

    assert [(a.kind, a.duration) for a in result.actions] == [(ActionKind.SUSPEND_ACCOUNT, timedelta(days=2))]
    assert owner.status is AccountStatus.SUSPENDED


def test_ads_ladder_steps() -> None:
    account = uuid.uuid4()
    strikes = [_strike(account, day, Surface.ADS) for day in (0, 5, 10, 15, 20)]
    kinds = [ADS_LADDER.step_for(s, strikes[: i + 1]) for i, s in enumerate(strikes)]
    assert [(s.action, s.duration_days) if s else None for s in kinds] == [
        (ActionKind.WARN, None),
        (ActionKind.HOLD_ADS, 3),
        (ActionKind.HOLD_ADS, 7),
        (ActionKind.SUSPEND_ACCOUNT, 30),
        (ActionKind.SUSPEND_ACCOUNT, 30),
    ]


def test_ladders_count_only_their_surfaces() -> None:
    account = uuid.uuid4()
    ads = [_strike(account, d, Surface.ADS) for d in (0, 1, 2)]
    content = _strike(account, 3, Surface.CONTENT)
    step = CONTENT_LADDER.step_for(content, [*ads, content])
    assert step is not None
    assert step.action is ActionKind.WARN
    assert ladder_for((CONTENT_LADDER, ADS_LADDER), Surface.ACCOUNT) is CONTENT_LADDER


def test_window_limits_counting() -> None:
    ladder = StrikeLadder(surfaces=(Surface.CONTENT,), steps=CONTENT_LADDER.steps, window_days=30)
    account = uuid.uuid4()
    old, recent = _strike(account, 0), _strike(account, 40)
    assert ladder.weight_at([old, recent], recent.issued_at) == 1
    assert CONTENT_LADDER.weight_at([old, recent], recent.issued_at) == 2


def test_invalid_ladder_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="ascending"):
        StrikeLadder(
            surfaces=(Surface.CONTENT,), steps=(LadderStep(2, ActionKind.WARN), LadderStep(1, ActionKind.WARN))
        )


def _ladder_action(strike: Strike, step: LadderStep) -> EnforcementAction:
    return step.action_for(strike, strike.issued_at)


def test_reevaluate_downgrades_later_strikes_after_a_reversal() -> None:
    account = uuid.uuid4()
    one, two, three = _strike(account, 0), _strike(account, 1), _strike(account, 2)
    steps = CONTENT_LADDER.steps
    actions = [_ladder_action(one, steps[0]), _ladder_action(two, steps[1]), _ladder_action(three, steps[2])]
    now = b.T0 + timedelta(days=3)
    two.reverse(now)
    actions[1].reverse(now)

    correction = reevaluate(CONTENT_LADDER, [one, two, three], actions, since=two.issued_at, now=now)

    assert [a.kind for a in correction.reverse] == [ActionKind.BAN_ACCOUNT]
    assert [(a.kind, a.strike_id, a.starts_at) for a in correction.add] == [
        (ActionKind.RESTRICT_FEATURES, three.id, three.issued_at)
    ]


def test_reevaluate_leaves_earlier_strikes_alone() -> None:
    account = uuid.uuid4()
    one, two, three = _strike(account, 0), _strike(account, 1), _strike(account, 2)
    steps = CONTENT_LADDER.steps
    actions = [_ladder_action(one, steps[0]), _ladder_action(two, steps[1]), _ladder_action(three, steps[2])]
    now = b.T0 + timedelta(days=3)
    three.reverse(now)
    actions[2].reverse(now)

    correction = reevaluate(CONTENT_LADDER, [one, two, three], actions, since=three.issued_at, now=now)

    assert correction.reverse == ()
    assert correction.add == ()
