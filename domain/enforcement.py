"""Enforcement actions: what is done to a content, an ad or an account, and when it is in force."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain import limits
from domain.actor import Actor, Capability
from domain.errors import DomainError
from domain.region import Region
from domain.subject import Subject, SubjectKind


class ActionKind(StrEnum):
    REMOVE_CONTENT = "REMOVE_CONTENT"
    AGE_RESTRICT = "AGE_RESTRICT"
    LIMIT_DISTRIBUTION = "LIMIT_DISTRIBUTION"
    LABEL = "LABEL"
    REJECT_AD = "REJECT_AD"
    WARN = "WARN"
    RESTRICT_FEATURES = "RESTRICT_FEATURES"
    SUSPEND_ACCOUNT = "SUSPEND_ACCOUNT"
    BAN_ACCOUNT = "BAN_ACCOUNT"
    HOLD_ADS = "HOLD_ADS"  # advertiser may not serve ads for a while (ads ladder); account reads RESTRICTED


class ActionSource(StrEnum):
    DECISION = "DECISION"  # requested by the decider
    LADDER = "LADDER"  # issued by the strike ladder for ``strike_id``


#: The kind of thing each action targets. Account actions on a content/ad case target its owner account.
TARGET_KIND: dict[ActionKind, SubjectKind] = {
    ActionKind.REMOVE_CONTENT: SubjectKind.CONTENT,
    ActionKind.AGE_RESTRICT: SubjectKind.CONTENT,
    ActionKind.LIMIT_DISTRIBUTION: SubjectKind.CONTENT,
    ActionKind.LABEL: SubjectKind.CONTENT,
    ActionKind.REJECT_AD: SubjectKind.AD,
    ActionKind.WARN: SubjectKind.ACCOUNT,
    ActionKind.RESTRICT_FEATURES: SubjectKind.ACCOUNT,
    ActionKind.SUSPEND_ACCOUNT: SubjectKind.ACCOUNT,
    ActionKind.BAN_ACCOUNT: SubjectKind.ACCOUNT,
    ActionKind.HOLD_ADS: SubjectKind.ACCOUNT,
}
#: What an actor needs, in the record's region, to apply each kind (by a request or through the ladder).
REQUIRED_CAPABILITY: dict[ActionKind, Capability] = {
    ActionKind.BAN_ACCOUNT: Capability.SANCTION_ACCOUNTS,
    ActionKind.SUSPEND_ACCOUNT: Capability.SANCTION_ACCOUNTS,
    ActionKind.RESTRICT_FEATURES: Capability.SANCTION_ACCOUNTS,
    ActionKind.HOLD_ADS: Capability.SANCTION_ACCOUNTS,
}
#: Kinds that must carry a duration (they are "until" penalties).
DURATION_REQUIRED: frozenset[ActionKind] = frozenset(
    {ActionKind.RESTRICT_FEATURES, ActionKind.SUSPEND_ACCOUNT, ActionKind.HOLD_ADS}
)
#: Kinds that never carry a duration (a warning is a one-off notice).
DURATION_FORBIDDEN: frozenset[ActionKind] = frozenset({ActionKind.WARN})
MAX_REQUESTED_ACTIONS = 10


@dataclass(frozen=True)
class RequestedAction:
    """An action a decider asks for. ``duration_days`` ``None`` means permanent (where allowed)."""

    kind: ActionKind
    duration_days: int | None = None

    def target_id(self, subject: Subject) -> uuid.UUID:
        return subject.owner_account_id if TARGET_KIND[self.kind] is SubjectKind.ACCOUNT else subject.id


def ensure_may_apply(
    actor: Actor, kinds: Sequence[ActionKind], region: Region, *, field: str = "actions", why: str = ""
) -> None:
    """FORBIDDEN unless ``actor`` holds, in ``region``, the capability each of ``kinds`` needs.

    The one rule for who may sanction: decisions (their requested actions and the ladder step their strike
    reaches), automated decisions, and automation rules (whose actions are applied in their name) all pass it.
    """
    for kind in kinds:
        capability = REQUIRED_CAPABILITY.get(kind)
        if capability is not None and not actor.may(capability, region):
            raise DomainError.forbidden(
                f"{kind.value}{why} needs the right to ban, suspend or restrict accounts in {region.value} "
                "(accounts:ban)",
                field,
            )


def validate_requested(actions: Sequence[RequestedAction], subject_kind: SubjectKind) -> None:
    """Content actions only on content, REJECT_AD only on ads; account actions on any subject (its owner)."""
    field_name = "actions"
    if len(actions) > MAX_REQUESTED_ACTIONS:
        raise DomainError.invalid_input(f"at most {MAX_REQUESTED_ACTIONS} actions", field_name)
    if len({a.kind for a in actions}) != len(actions):
        raise DomainError.invalid_input("an action kind may be requested only once", field_name)
    for action in actions:
        target = TARGET_KIND[action.kind]
        if target is not SubjectKind.ACCOUNT and target is not subject_kind:
            raise DomainError.invalid_input(
                f"{action.kind.value} applies to {target.value}, not to {subject_kind.value}", field_name
            )
        _validate_duration(action, field_name)


def _validate_duration(action: RequestedAction, field_name: str) -> None:
    if action.duration_days is None:
        if action.kind in DURATION_REQUIRED:
            raise DomainError.invalid_input(f"{action.kind.value} needs a duration", field_name)
        return
    if action.kind in DURATION_FORBIDDEN:
        raise DomainError.invalid_input(f"{action.kind.value} takes no duration", field_name)
    limits.int_range(action.duration_days, field=field_name, low=1, high=limits.ACTION_DURATION_DAYS_MAX)


@dataclass(kw_only=True)
class EnforcementAction:
    """In force at ``t`` iff not reversed, ``starts_at <= t`` and (``ends_at`` is None or ``t < ends_at``).

    Every action belongs to a decision (``decision_id``); ladder actions also name the strike that caused
    them (``strike_id``). Region = the target's region. Only ``reversed_at`` ever changes.
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    decision_id: uuid.UUID
    kind: ActionKind
    target_kind: SubjectKind
    target_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime | None = None
    reversed_at: datetime | None = None
    source: ActionSource = ActionSource.DECISION
    strike_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def duration(self) -> timedelta | None:
        return None if self.ends_at is None else self.ends_at - self.starts_at

    def in_force(self, now: datetime) -> bool:
        if self.reversed_at is not None or now < self.starts_at:
            return False
        return self.ends_at is None or now < self.ends_at

    def reverse(self, now: datetime) -> bool:
        """Mark reversed; returns False if it already was."""
        if self.reversed_at is not None:
            return False
        self.reversed_at, self.updated_at = now, now
        return True


def action_for_request(
    requested: RequestedAction, *, subject: Subject, decision_id: uuid.UUID, now: datetime
) -> EnforcementAction:
    days = requested.duration_days
    return EnforcementAction(
        region=subject.region,
        decision_id=decision_id,
        kind=requested.kind,
        target_kind=TARGET_KIND[requested.kind],
        target_id=requested.target_id(subject),
        starts_at=now,
        ends_at=None if days is None else now + timedelta(days=days),
        created_at=now,
        updated_at=now,
    )
