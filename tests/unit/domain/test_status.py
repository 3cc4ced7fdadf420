"""Rule 5: account status, content visibility and ad status are derived from the actions in force."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from domain.account import AccountStatus
from domain.ad import AdReviewStatus
from domain.clock import FixedClock
from domain.content import Visibility
from domain.enforcement import TARGET_KIND, ActionKind, EnforcementAction, RequestedAction
from domain.region import Region
from domain.services.subject import refresh_subject
from domain.status import account_status_at, ad_status, content_visibility_at
from domain.subject import SubjectKind
from tests.unit.domain import builders as b
from tests.unit.domain.builders import T0
from tests.unit.domain.fakes import FakeUnitOfWork

TARGET = uuid.uuid4()


def act(
    kind: ActionKind, start: int = 0, days: int | None = None, reversed_at: datetime | None = None
) -> EnforcementAction:
    starts_at = T0 + timedelta(days=start)
    return EnforcementAction(
        region=Region.US,
        decision_id=uuid.uuid4(),
        kind=kind,
        target_kind=TARGET_KIND[kind],
        target_id=TARGET,
        starts_at=starts_at,
        ends_at=None if days is None else starts_at + timedelta(days=days),
        reversed_at=reversed_at,
        created_at=starts_at,
        updated_at=starts_at,
    )


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def test_no_actions_means_active_and_visible() -> None:
    assert account_status_at([], T0) == (AccountStatus.ACTIVE, None)
    assert content_visibility_at([], T0) is Visibility.VISIBLE


def test_most_severe_account_action_wins() -> None:
    actions = [act(ActionKind.RESTRICT_FEATURES, days=7), act(ActionKind.SUSPEND_ACCOUNT, days=3)]
    assert account_status_at(actions, at(1)) == (AccountStatus.SUSPENDED, at(3))
    assert account_status_at(actions, at(4)) == (AccountStatus.RESTRICTED, at(7))
    assert account_status_at(actions, at(7)) == (AccountStatus.ACTIVE, None)


def test_permanent_ban_has_no_until() -> None:
    actions = [act(ActionKind.BAN_ACCOUNT), act(ActionKind.SUSPEND_ACCOUNT, days=3)]
    assert account_status_at(actions, at(100)) == (AccountStatus.BANNED, None)


def test_reversed_and_future_actions_are_not_in_force() -> None:
    actions = [act(ActionKind.BAN_ACCOUNT, reversed_at=at(1)), act(ActionKind.SUSPEND_ACCOUNT, start=5, days=2)]
    assert account_status_at(actions, at(0.5)) == (AccountStatus.ACTIVE, None)
    assert account_status_at(actions, at(2)) == (AccountStatus.ACTIVE, None)
    assert account_status_at(actions, at(6)) == (AccountStatus.SUSPENDED, at(7))


def test_warn_and_hold_ads() -> None:
    assert account_status_at([act(ActionKind.WARN)], at(1)) == (AccountStatus.ACTIVE, None)
    assert account_status_at([act(ActionKind.HOLD_ADS, days=3)], at(1)) == (AccountStatus.RESTRICTED, at(3))


def test_most_restrictive_visibility_wins() -> None:
    actions = [act(ActionKind.LABEL), act(ActionKind.AGE_RESTRICT), act(ActionKind.LIMIT_DISTRIBUTION, days=2)]
    assert content_visibility_at(actions, at(1)) is Visibility.LIMITED
    assert content_visibility_at(actions, at(3)) is Visibility.AGE_RESTRICTED
    assert content_visibility_at([*actions, act(ActionKind.REMOVE_CONTENT)], at(3)) is Visibility.REMOVED
    assert content_visibility_at([act(ActionKind.REMOVE_CONTENT, reversed_at=at(1))], at(2)) is Visibility.VISIBLE


def test_account_actions_do_not_change_visibility() -> None:
    assert content_visibility_at([act(ActionKind.BAN_ACCOUNT)], at(1)) is Visibility.VISIBLE


def test_ad_status() -> None:
    reject = act(ActionKind.REJECT_AD)
    assert ad_status([], T0, reviewed=False, restrictions=None) is AdReviewStatus.PENDING_REVIEW
    assert ad_status([], T0, reviewed=True, restrictions=None) is AdReviewStatus.APPROVED
    assert ad_status([], T0, reviewed=True, restrictions="18+ only") is AdReviewStatus.APPROVED_RESTRICTED
    assert ad_status([reject], at(1), reviewed=True, restrictions=None) is AdReviewStatus.REJECTED
    overturned = act(ActionKind.REJECT_AD, reversed_at=at(2))
    assert ad_status([overturned], at(3), reviewed=True, restrictions=None) is AdReviewStatus.APPROVED


async def test_refresh_subject_rederives_a_lapsed_status(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    suspend = (RequestedAction(ActionKind.SUSPEND_ACCOUNT, duration_days=3),)
    await b.violate(uow, await b.content(uow, owner), hate.policy.id, actions=suspend)
    assert owner.status_until == T0 + timedelta(days=3)
    clock.advance(timedelta(days=3))

    changed = await refresh_subject(uow, SubjectKind.ACCOUNT, owner.id)

    after = await uow.accounts.get(owner.id)
    assert changed is True
    assert after is not None
    assert (after.status, after.status_until) == (AccountStatus.ACTIVE, None)
    assert await refresh_subject(uow, SubjectKind.ACCOUNT, owner.id) is False
