"""Automation rules: classifier scores against per-region, per-policy thresholds."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.account import Account
from domain.actor import ActorKind
from domain.automation import AutomationRule, Band, RuleSettings
from domain.case import CaseState
from domain.clock import FixedClock
from domain.content import Content, Visibility
from domain.decision import Verdict
from domain.enforcement import ActionKind, ActionSource, RequestedAction
from domain.errors import DomainError, ErrorCode
from domain.region import Region
from domain.report import ReportSource
from domain.services.automation import (
    DefineAutomationRule,
    SignalOutcome,
    SubmitSignal,
    define_automation_rule,
    submit_signal,
)
from domain.services.case import ClaimCase, EscalateCase, claim_case, escalate_case
from domain.services.policy import PolicyDefinition
from domain.strike import StrikeStatus
from domain.subject import SubjectKind, Surface
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeMigratedRules, FakeUnitOfWork

REMOVE = RequestedAction(ActionKind.REMOVE_CONTENT)
CLASSIFIER = "hate-v3"


def _settings(enqueue: float = 0.6, decide: float = 0.9, *, enabled: bool = True) -> RuleSettings:
    return RuleSettings(enqueue_threshold=enqueue, decide_threshold=decide, actions=(REMOVE,), enabled=enabled)


async def _rule(
    uow: FakeUnitOfWork, policy_id: uuid.UUID, settings: RuleSettings | None = None, region: Region = Region.US
) -> AutomationRule:
    cmd = DefineAutomationRule(
        region=region, policy_id=policy_id, classifier=CLASSIFIER, settings=settings or _settings()
    )
    return await define_automation_rule(uow, b.POLICY_MANAGER, cmd, FakeMigratedRules())


async def _world(uow: FakeUnitOfWork) -> tuple[Account, Content, PolicyDefinition]:
    owner = await b.account(uow)
    return owner, await b.content(uow, owner), await b.policy(uow)


def _signal(video: Content, policy_id: uuid.UUID, score: float, key: str | None = None) -> SubmitSignal:
    return SubmitSignal(
        subject_kind=SubjectKind.CONTENT,
        subject_id=video.id,
        classifier=CLASSIFIER,
        scores=((policy_id, score),),
        idempotency_key=key,
    )


# -- the rule ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("score", "band"),
    [(1.0, Band.DECIDE), (0.9, Band.DECIDE), (0.89, Band.ENQUEUE), (0.6, Band.ENQUEUE), (0.59, Band.IGNORE),
     (0.0, Band.IGNORE)],
)  # fmt: skip
async def test_a_score_falls_in_one_band(uow: FakeUnitOfWork, score: float, band: Band) -> None:
    _, _, hate = await _world(uow)
    rule = await _rule(uow, hate.policy.id)
    assert rule.band(score) is band


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        (_settings(0.9, 0.9), "enqueueThreshold"),
        (_settings(0.95, 0.9), "enqueueThreshold"),
        (_settings(-0.1, 0.9), "enqueueThreshold"),
        (_settings(0.5, 1.5), "decideThreshold"),
        (_settings(float("nan"), 0.9), "enqueueThreshold"),
        (RuleSettings(0.5, 0.9, actions=(RequestedAction(ActionKind.REJECT_AD),)), "actions"),
        (RuleSettings(0.5, 0.9, actions=(RequestedAction(ActionKind.SUSPEND_ACCOUNT),)), "actions"),
        (RuleSettings(0.5, 0.9, actions=(REMOVE, REMOVE)), "actions"),
    ],
)
async def test_invalid_settings_are_refused_and_nothing_is_stored(
    uow: FakeUnitOfWork, settings: RuleSettings, field: str
) -> None:
    _, _, hate = await _world(uow)
    before = uow.snapshot()

    with pytest.raises(DomainError) as raised:
        await _rule(uow, hate.policy.id, settings)

    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, field)
    assert uow.snapshot() == before


async def test_defining_again_reconfigures_the_same_rule(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    _, _, hate = await _world(uow)
    first = await _rule(uow, hate.policy.id)
    clock.advance(timedelta(hours=1))

    again = await _rule(uow, hate.policy.id, _settings(0.7, 0.95, enabled=False))

    assert again is first
    assert (again.enqueue_threshold, again.decide_threshold, again.enabled) == (0.7, 0.95, False)
    assert again.requested_actions == (REMOVE,)
    assert again.updated_at == b.T0 + timedelta(hours=1)
    assert len(uow.automation_rules.all()) == 1
    other_region = await _rule(uow, hate.policy.id, region=Region.EU)
    assert other_region.id != first.id


async def test_a_rule_needs_an_existing_policy(uow: FakeUnitOfWork) -> None:
    with pytest.raises(DomainError) as raised:
        await _rule(uow, uuid.uuid4())
    assert raised.value.code is ErrorCode.NOT_FOUND
    assert uow.automation_rules.all() == []


# -- signals ------------------------------------------------------------------------------------------------
async def test_a_score_at_or_above_the_decide_threshold_decides_automatically(uow: FakeUnitOfWork) -> None:
    owner, video, hate = await _world(uow)
    rule = await _rule(uow, hate.policy.id)

    [outcome] = await submit_signal(uow, b.PLATFORM, _signal(video, hate.policy.id, 0.97))

    assert outcome.outcome is SignalOutcome.DECIDED
    assert outcome.rule is rule
    assert outcome.report is not None
    assert outcome.case is not None
    assert outcome.decision is not None
    assert outcome.report.source is ReportSource.AUTOMATED
    assert outcome.report.reporter_id == b.PLATFORM.id
    assert outcome.case.state is CaseState.DECIDED
    decision = outcome.decision
    assert (decision.verdict, decision.automated) == (Verdict.VIOLATING, True)
    assert (decision.decider_id, decision.decider_kind) == (f"automation:{rule.id}", ActorKind.AUTOMATION)
    assert decision.policy_version_id == hate.version.id
    assert (await uow.contents.get(video.id)).visibility is Visibility.REMOVED  # type: ignore[union-attr]
    [strike] = await uow.strikes.list_for_decision(decision.id)
    assert (strike.account_id, strike.status_at(b.T0)) == (owner.id, StrikeStatus.ACTIVE)
    kinds = {(a.kind, a.source) for a in await uow.actions.list_for_decision(decision.id)}
    assert kinds == {(ActionKind.REMOVE_CONTENT, ActionSource.DECISION), (ActionKind.WARN, ActionSource.LADDER)}


async def test_a_score_between_the_thresholds_files_an_automated_report(uow: FakeUnitOfWork) -> None:
    _, video, hate = await _world(uow)
    await _rule(uow, hate.policy.id)

    [outcome] = await submit_signal(uow, b.PLATFORM, _signal(video, hate.policy.id, 0.7))

    assert outcome.outcome is SignalOutcome.ENQUEUED
    assert outcome.decision is None
    assert outcome.report is not None
    assert outcome.case is not None
    assert outcome.report.source is ReportSource.AUTOMATED
    assert (outcome.case.state, outcome.case.report_count, outcome.case.top_source) == (
        CaseState.OPEN, 1, ReportSource.AUTOMATED
    )  # fmt: skip
    assert outcome.case.priority > 0
    assert uow.decisions.all() == []
    assert (await uow.contents.get(video.id)).visibility is Visibility.VISIBLE  # type: ignore[union-attr]


async def test_a_score_below_the_enqueue_threshold_does_nothing(uow: FakeUnitOfWork) -> None:
    _, video, hate = await _world(uow)
    rule = await _rule(uow, hate.policy.id)
    before = uow.snapshot()

    [outcome] = await submit_signal(uow, b.PLATFORM, _signal(video, hate.policy.id, 0.59))

    assert (outcome.outcome, outcome.rule, outcome.report) == (SignalOutcome.IGNORED, rule, None)
    assert uow.snapshot() == before


@pytest.mark.parametrize("setup", ["none", "disabled", "other_region", "other_classifier"])
async def test_without_an_enabled_rule_of_the_region_nothing_happens(uow: FakeUnitOfWork, setup: str) -> None:
    _, video, hate = await _world(uow)
    if setup == "disabled":
        await _rule(uow, hate.policy.id, _settings(enabled=False))
    elif setup == "other_region":
        await _rule(uow, hate.policy.id, region=Region.EU)
    elif setup == "other_classifier":
        cmd = DefineAutomationRule(region=Region.US, policy_id=hate.policy.id, classifier="nudity-v1",
                                   settings=_settings())  # fmt: skip
        await define_automation_rule(uow, b.POLICY_MANAGER, cmd, FakeMigratedRules())
    before = uow.snapshot()

    [outcome] = await submit_signal(uow, b.PLATFORM, _signal(video, hate.policy.id, 0.99))

    assert (outcome.outcome, outcome.report, outcome.decision) == (SignalOutcome.NO_RULE, None, None)
    assert uow.snapshot() == before


async def test_a_case_a_moderator_holds_is_only_enqueued(uow: FakeUnitOfWork) -> None:
    _, video, hate = await _world(uow)
    await _rule(uow, hate.policy.id)
    filed = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id)
    await claim_case(uow, b.MODERATOR, ClaimCase(case_id=filed.case_id))

    [outcome] = await submit_signal(uow, b.PLATFORM, _signal(video, hate.policy.id, 0.99))

    assert outcome.outcome is SignalOutcome.ENQUEUED
    assert outcome.case is not None
    assert (outcome.case.id, outcome.case.state, outcome.case.assignee_id) == (
        filed.case_id, CaseState.ASSIGNED, b.MODERATOR.id
    )  # fmt: skip
    assert outcome.case.report_count == 2
    assert uow.decisions.all() == []


async def test_a_lapsed_lease_does_not_stop_the_rule(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    _, video, hate = await _world(uow)
    await _rule(uow, hate.policy.id)
    filed = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id)
    await claim_case(uow, b.MODERATOR, ClaimCase(case_id=filed.case_id))
    clock.advance(timedelta(hours=1))

    [outcome] = await submit_signal(uow, b.PLATFORM, _signal(video, hate.policy.id, 0.99))

    assert outcome.outcome is SignalOutcome.DECIDED
    assert outcome.case is not None
    assert outcome.case.id == filed.case_id


async def test_an_escalated_case_is_only_enqueued(uow: FakeUnitOfWork) -> None:
    _, video, hate = await _world(uow)
    await _rule(uow, hate.policy.id)
    filed = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id)
    await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=filed.case_id, reason="borderline satire"))

    [outcome] = await submit_signal(uow, b.PLATFORM, _signal(video, hate.policy.id, 0.99))

    assert outcome.outcome is SignalOutcome.ENQUEUED
    assert outcome.case is not None
    assert (outcome.case.state, outcome.case.report_count) == (CaseState.ESCALATED, 2)
    assert uow.decisions.all() == []


async def test_actions_that_do_not_fit_the_subject_leave_it_to_a_human(uow: FakeUnitOfWork) -> None:
    owner, _, hate = await _world(uow)
    await _rule(uow, hate.policy.id)  # REMOVE_CONTENT cannot apply to an account reported under a CONTENT policy
    cmd = SubmitSignal(subject_kind=SubjectKind.ACCOUNT, subject_id=owner.id, classifier=CLASSIFIER,
                       scores=((hate.policy.id, 0.99),))  # fmt: skip

    [outcome] = await submit_signal(uow, b.PLATFORM, cmd)

    assert outcome.outcome is SignalOutcome.ENQUEUED
    assert uow.decisions.all() == []


async def test_each_score_meets_its_own_policys_rule(uow: FakeUnitOfWork) -> None:
    _, video, hate = await _world(uow)
    spam = await b.policy(uow, "SPAM")
    violence = await b.policy(uow, "VIOLENCE")
    await _rule(uow, hate.policy.id)
    await _rule(uow, spam.policy.id, _settings(0.3, 0.8))
    scores = ((hate.policy.id, 0.4), (spam.policy.id, 0.5), (violence.policy.id, 0.99))
    cmd = SubmitSignal(subject_kind=SubjectKind.CONTENT, subject_id=video.id, classifier=CLASSIFIER, scores=scores)

    outcomes = await submit_signal(uow, b.PLATFORM, cmd)

    assert [(o.policy_id, o.outcome) for o in outcomes] == [
        (hate.policy.id, SignalOutcome.IGNORED),
        (spam.policy.id, SignalOutcome.ENQUEUED),
        (violence.policy.id, SignalOutcome.NO_RULE),
    ]


async def test_a_retried_signal_files_nothing_more(uow: FakeUnitOfWork) -> None:
    _, video, hate = await _world(uow)
    await _rule(uow, hate.policy.id)
    [first] = await submit_signal(uow, b.PLATFORM, _signal(video, hate.policy.id, 0.99, key="sig-1"))
    before = uow.snapshot()

    [again] = await submit_signal(uow, b.PLATFORM, _signal(video, hate.policy.id, 0.99, key="sig-1"))

    assert again.outcome is SignalOutcome.DECIDED
    assert first.report is not None
    assert first.decision is not None
    assert (again.report, again.decision) == (first.report, first.decision)
    assert uow.snapshot() == before


@pytest.mark.parametrize(
    ("case", "code", "field"),
    [
        ("empty", ErrorCode.INVALID_INPUT, "scores"),
        ("twice", ErrorCode.INVALID_INPUT, "scores"),
        ("out_of_range", ErrorCode.INVALID_INPUT, "scores"),
        ("unknown_policy", ErrorCode.NOT_FOUND, "scores"),
        ("ads_policy", ErrorCode.INVALID_INPUT, "scores"),
    ],
)
async def test_a_bad_signal_changes_nothing(uow: FakeUnitOfWork, case: str, code: ErrorCode, field: str) -> None:
    _, video, hate = await _world(uow)
    ads = await b.policy(uow, "MISLEADING_AD_CLAIMS", surface=Surface.ADS)
    await _rule(uow, hate.policy.id)
    pairs: tuple[tuple[uuid.UUID, float], ...] = {
        "empty": (),
        "twice": ((hate.policy.id, 0.99), (hate.policy.id, 0.5)),
        "out_of_range": ((hate.policy.id, 1.01),),
        "unknown_policy": ((hate.policy.id, 0.99), (uuid.uuid4(), 0.5)),
        "ads_policy": ((hate.policy.id, 0.99), (ads.policy.id, 0.99)),
    }[case]
    cmd = SubmitSignal(subject_kind=SubjectKind.CONTENT, subject_id=video.id, classifier=CLASSIFIER, scores=pairs)
    before = uow.snapshot()

    with pytest.raises(DomainError) as raised:
        await submit_signal(uow, b.PLATFORM, cmd)

    assert (raised.value.code, raised.value.field) == (code, field)
    assert uow.snapshot() == before
