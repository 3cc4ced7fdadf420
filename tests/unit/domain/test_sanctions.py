"""Who may sanction: every account sanction a decision applies, asked for or reached on the strike ladder, needs
the actor's SANCTION_ACCOUNTS capability in the record's region (``domain.enforcement.ensure_may_apply``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.actor import Actor, ActorKind, Capability
from domain.clock import FixedClock
from domain.enforcement import ActionKind, ActionSource, RequestedAction
from domain.errors import DomainError, ErrorCode
from domain.region import Region
from domain.services.automation import (
    DefineAutomationRule,
    SignalOutcome,
    SubmitSignal,
    define_automation_rule,
    submit_signal,
)
from domain.subject import SubjectKind
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeMigratedRules, FakeUnitOfWork

REMOVE = RequestedAction(ActionKind.REMOVE_CONTENT)


@pytest.mark.parametrize(
    "action",
    [
        RequestedAction(ActionKind.BAN_ACCOUNT),
        RequestedAction(ActionKind.SUSPEND_ACCOUNT, 7),
        RequestedAction(ActionKind.RESTRICT_FEATURES, 7),
        RequestedAction(ActionKind.HOLD_ADS, 3),
    ],
)
async def test_account_sanctions_need_the_capability(uow: FakeUnitOfWork, action: RequestedAction) -> None:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    video = await b.content(uow, owner)
    filed = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id)
    before = uow.snapshot()

    with pytest.raises(DomainError) as raised:
        await b.decide(uow, filed.case_id, hate.policy.id, actor=b.VENDOR, actions=(action,))

    assert (raised.value.code, raised.value.field) == (ErrorCode.FORBIDDEN, "actions")
    assert action.kind.value in raised.value.message
    assert uow.snapshot() == before


async def test_the_capability_counts_only_in_its_region(uow: FakeUnitOfWork) -> None:
    eu_only = Actor(
        id="mod-eu",
        kind=ActorKind.STAFF,
        seniority=2,
        capabilities=frozenset({(Capability.SANCTION_ACCOUNTS, Region.EU)}),
    )
    owner = await b.account(uow, region=Region.US)
    hate = await b.policy(uow)
    ban = (RequestedAction(ActionKind.BAN_ACCOUNT),)

    with pytest.raises(DomainError) as raised:
        await b.violate(uow, await b.content(uow, owner), hate.policy.id, actor=eu_only, actions=ban)
    assert raised.value.code is ErrorCode.FORBIDDEN

    eu_owner = await b.account(uow, region=Region.EU)
    result = await b.violate(uow, await b.content(uow, eu_owner), hate.policy.id, actor=eu_only, actions=ban)
    assert ActionKind.BAN_ACCOUNT in [a.kind for a in result.actions]


async def test_without_sanctions_a_vendor_moderator_still_removes_and_warns(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    hate = await b.policy(uow)

    result = await b.violate(uow, await b.content(uow, owner), hate.policy.id, actor=b.VENDOR, actions=(REMOVE,))

    assert sorted(a.kind for a in result.actions) == [ActionKind.REMOVE_CONTENT, ActionKind.WARN]


async def test_a_ladder_ban_after_a_vendor_moderators_decision_is_refused(
    uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    """The ladder's third content step is a ban: a decider who may not ban may not take the decision that bans
    (FORBIDDEN, nothing decided: the case stays open for someone who may, e.g. after escalation)."""
    owner = await b.account(uow)
    hate = await b.policy(uow)
    for _ in range(2):  # warning, then a 7-day restriction: by a moderator
        await b.violate(uow, await b.content(uow, owner), hate.policy.id)
        clock.advance(timedelta(days=1))
    first = await b.content(uow, await b.account(uow))  # a first strike (a warning) the vendor may give
    assert (await b.violate(uow, first, hate.policy.id, actor=b.VENDOR)).strikes
    third = await b.content(uow, owner)
    filed = await b.report(uow, SubjectKind.CONTENT, third.id, hate.policy.id)
    before = uow.snapshot()

    with pytest.raises(DomainError) as raised:
        await b.decide(uow, filed.case_id, hate.policy.id, actor=b.VENDOR)

    assert raised.value.code is ErrorCode.FORBIDDEN
    assert "BAN_ACCOUNT" in raised.value.message
    assert "ladder" in raised.value.message
    assert uow.snapshot() == before
    result = await b.decide(uow, filed.case_id, hate.policy.id, actor=b.MODERATOR)
    assert [a.kind for a in result.actions if a.source is ActionSource.LADDER] == [ActionKind.BAN_ACCOUNT]


async def test_a_rule_applying_sanctions_needs_a_definer_who_may(uow: FakeUnitOfWork) -> None:
    hate = await b.policy(uow)
    settings = b.rule_settings(actions=(RequestedAction(ActionKind.RESTRICT_FEATURES, 7),))
    cmd = DefineAutomationRule(region=Region.US, policy_id=hate.policy.id, classifier="c", settings=settings)
    before = uow.snapshot()

    with pytest.raises(DomainError) as raised:
        await define_automation_rule(
            uow, b.POLICY_MANAGER, cmd, FakeMigratedRules()
        )  # policy managers hold no accounts:ban

    assert (raised.value.code, raised.value.field) == (ErrorCode.FORBIDDEN, "actions")
    assert uow.snapshot() == before
    rule = await define_automation_rule(uow, b.MODERATOR, cmd, FakeMigratedRules())
    assert rule.actor.may(Capability.SANCTION_ACCOUNTS, Region.US)
    assert not rule.actor.may(Capability.SANCTION_ACCOUNTS, Region.EU)


async def test_automation_leaves_a_ladder_sanction_to_a_human(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    """A rule that only removes content may not restrict or ban through the ladder: from the second strike (a
    7-day restriction) the score is enqueued for a human instead."""
    owner = await b.account(uow)
    hate = await b.policy(uow)
    settings = b.rule_settings(actions=(REMOVE,))
    rule_cmd = DefineAutomationRule(region=Region.US, policy_id=hate.policy.id, classifier="c", settings=settings)
    await define_automation_rule(uow, b.POLICY_MANAGER, rule_cmd, FakeMigratedRules())
    outcomes = []
    for _ in range(2):
        video = await b.content(uow, owner)
        signal = SubmitSignal(SubjectKind.CONTENT, video.id, "c", ((hate.policy.id, 0.99),))
        outcomes.append((await submit_signal(uow, b.PLATFORM, signal))[0])
        clock.advance(timedelta(days=1))

    assert [o.outcome for o in outcomes] == [SignalOutcome.DECIDED, SignalOutcome.ENQUEUED]
    assert outcomes[1].decision is None
    assert outcomes[1].case is not None
    assert outcomes[1].case.decision_id is None
