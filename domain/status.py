"""Derived state: account status, content visibility and ad review status follow from the actions in force.

These are pure functions of (actions, now). Services store their result on the entity after every change
so reads are cheap; a stored value is exact until its ``status_until`` (for accounts) passes, after which
re-deriving (``services.subject.refresh_subject``) yields the lapsed state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.account import AccountStatus
from domain.ad import AdReviewStatus
from domain.content import Visibility
from domain.enforcement import ActionKind, EnforcementAction
from domain.subject import SubjectKind

ACCOUNT_EFFECT: dict[ActionKind, AccountStatus] = {
    ActionKind.RESTRICT_FEATURES: AccountStatus.RESTRICTED,
    ActionKind.HOLD_ADS: AccountStatus.RESTRICTED,
    ActionKind.SUSPEND_ACCOUNT: AccountStatus.SUSPENDED,
    ActionKind.BAN_ACCOUNT: AccountStatus.BANNED,
}
VISIBILITY_EFFECT: dict[ActionKind, Visibility] = {
    ActionKind.LABEL: Visibility.LABELLED,
    ActionKind.AGE_RESTRICT: Visibility.AGE_RESTRICTED,
    ActionKind.LIMIT_DISTRIBUTION: Visibility.LIMITED,
    ActionKind.REMOVE_CONTENT: Visibility.REMOVED,
}
_ACCOUNT_RANK = list(AccountStatus)
_VISIBILITY_RANK = list(Visibility)


def _in_force(actions: Iterable[EnforcementAction], kind: SubjectKind, now: datetime) -> list[EnforcementAction]:
    return [a for a in actions if a.target_kind is kind and a.in_force(now)]


def account_status_at(actions: Iterable[EnforcementAction], now: datetime) -> tuple[AccountStatus, datetime | None]:
    """Most severe of BANNED > SUSPENDED > RESTRICTED (RESTRICT_FEATURES, HOLD_ADS) > ACTIVE.

    ``until`` is when the most severe status ends (latest end among its actions; None if any is permanent).
    WARN changes nothing.
    """
    effective = [a for a in _in_force(actions, SubjectKind.ACCOUNT, now) if a.kind in ACCOUNT_EFFECT]
    if not effective:
        return AccountStatus.ACTIVE, None
    worst = max((ACCOUNT_EFFECT[a.kind] for a in effective), key=_ACCOUNT_RANK.index)
    ends = [a.ends_at for a in effective if ACCOUNT_EFFECT[a.kind] is worst]
    if any(end is None for end in ends):
        return worst, None
    return worst, max(end for end in ends if end is not None)


def content_visibility_at(actions: Iterable[EnforcementAction], now: datetime) -> Visibility:
    """Most restrictive of REMOVED > LIMITED > AGE_RESTRICTED > LABELLED > VISIBLE."""
    effects = [VISIBILITY_EFFECT[a.kind] for a in _in_force(actions, SubjectKind.CONTENT, now)]
    return max([Visibility.VISIBLE, *effects], key=_VISIBILITY_RANK.index)


def ad_status(
    actions: Iterable[EnforcementAction], now: datetime, *, reviewed: bool, restrictions: str | None
) -> AdReviewStatus:
    """REJECTED while a REJECT_AD is in force; else PENDING_REVIEW until reviewed; else APPROVED(_RESTRICTED)."""
    if any(a.kind is ActionKind.REJECT_AD for a in _in_force(actions, SubjectKind.AD, now)):
        return AdReviewStatus.REJECTED
    if not reviewed:
        return AdReviewStatus.PENDING_REVIEW
    return AdReviewStatus.APPROVED_RESTRICTED if restrictions else AdReviewStatus.APPROVED
