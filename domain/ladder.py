"""The strike ladder: turns an account's active strikes into penalties.

A :class:`StrikeLadder` covers one or more policy surfaces. When a strike is issued, the ladder sums the
``weight`` of the account's strikes on those surfaces that are active at that instant and were issued within
``window_days`` before it (the new strike included), and applies the highest step whose ``threshold`` the
sum reaches. A strike from a SEVERE policy version applies ``severe_step`` at once. A strike of weight 0
never climbs the ladder. Strikes issued at the same instant count together.

Expiry is read from the clock: once a strike is past ``expires_at`` it simply stops counting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.enforcement import ActionKind, ActionSource, EnforcementAction
from domain.policy import Severity
from domain.strike import Strike
from domain.subject import SubjectKind, Surface


@dataclass(frozen=True)
class LadderStep:
    """At ``threshold`` active strike weight: apply ``action`` for ``duration_days`` (None = no end)."""

    threshold: int
    action: ActionKind
    duration_days: int | None = None

    @property
    def duration(self) -> timedelta | None:
        return None if self.duration_days is None else timedelta(days=self.duration_days)

    def action_for(self, strike: Strike, now: datetime) -> EnforcementAction:
        """The ladder action for ``strike``; it runs from the strike's issue time."""
        duration = self.duration
        return EnforcementAction(
            region=strike.region,
            decision_id=strike.decision_id,
            kind=self.action,
            target_kind=SubjectKind.ACCOUNT,
            target_id=strike.account_id,
            starts_at=strike.issued_at,
            ends_at=None if duration is None else strike.issued_at + duration,
            source=ActionSource.LADDER,
            strike_id=strike.id,
            created_at=now,
            updated_at=now,
        )

    def matches(self, action: EnforcementAction) -> bool:
        return action.kind is self.action and action.duration == self.duration


@dataclass(frozen=True)
class StrikeLadder:
    surfaces: tuple[Surface, ...]
    steps: tuple[LadderStep, ...]
    window_days: int = 90
    severe_step: LadderStep | None = field(default_factory=lambda: LadderStep(0, ActionKind.BAN_ACCOUNT))

    def __post_init__(self) -> None:
        thresholds = [s.threshold for s in self.steps]
        if not thresholds or thresholds != sorted(set(thresholds)) or thresholds[0] < 1:
            raise ValueError("ladder steps need strictly ascending thresholds >= 1")

    def covers(self, surface: Surface) -> bool:
        return surface in self.surfaces

    def weight_at(self, strikes: Iterable[Strike], at: datetime) -> int:
        since = at - timedelta(days=self.window_days)
        counted = (s for s in strikes if self.covers(s.surface) and s.is_active(at) and s.issued_at > since)
        return sum(s.weight for s in counted)

    def step_for_weight(self, weight: int) -> LadderStep | None:
        reached = [s for s in self.steps if s.threshold <= weight]
        return reached[-1] if reached else None

    def step_for(self, strike: Strike, strikes: Iterable[Strike]) -> LadderStep | None:
        """The step ``strike`` triggers, given all the account's strikes (``strike`` may be among them)."""
        if strike.severity is Severity.SEVERE and self.severe_step is not None:
            return self.severe_step
        if strike.weight <= 0 or not strike.is_active(strike.issued_at):
            return None
        others = [s for s in strikes if s.id != strike.id]
        return self.step_for_weight(self.weight_at([*others, strike], strike.issued_at))


CONTENT_LADDER = StrikeLadder(
    surfaces=(Surface.CONTENT, Surface.ACCOUNT),
    steps=(
        LadderStep(1, ActionKind.WARN),
        LadderStep(2, ActionKind.RESTRICT_FEATURES, 7),
        LadderStep(3, ActionKind.BAN_ACCOUNT),
    ),
)
ADS_LADDER = StrikeLadder(
    surfaces=(Surface.ADS,),
    steps=(
        LadderStep(1, ActionKind.WARN),
        LadderStep(2, ActionKind.HOLD_ADS, 3),
        LadderStep(3, ActionKind.HOLD_ADS, 7),
        LadderStep(4, ActionKind.SUSPEND_ACCOUNT, 30),
    ),
)
DEFAULT_LADDERS: tuple[StrikeLadder, ...] = (CONTENT_LADDER, ADS_LADDER)


def ladder_for(ladders: Sequence[StrikeLadder], surface: Surface) -> StrikeLadder | None:
    return next((ladder for ladder in ladders if ladder.covers(surface)), None)


@dataclass(frozen=True)
class LadderCorrection:
    """What re-evaluating the ladder changes: ladder actions to reverse, and new ones to add."""

    reverse: tuple[EnforcementAction, ...] = ()
    add: tuple[EnforcementAction, ...] = ()


def reevaluate(
    ladder: StrikeLadder,
    strikes: Sequence[Strike],
    actions: Sequence[EnforcementAction],
    *,
    since: datetime,
    now: datetime,
) -> LadderCorrection:
    """Replay the ladder for the account's unreversed strikes issued at or after ``since``.

    Used after a strike is reversed: each later strike should carry the step it would have triggered without
    the reversed one. A ladder action that no longer matches is reversed and the right one added (running
    from the strike's issue time, so an earlier penalty returns only as far as it would still be in force).
    """
    to_reverse: list[EnforcementAction] = []
    to_add: list[EnforcementAction] = []
    replayed = [s for s in strikes if ladder.covers(s.surface) and s.reversed_at is None and s.issued_at >= since]
    for strike in sorted(replayed, key=lambda s: s.issued_at):
        current = [a for a in actions if a.strike_id == strike.id and a.reversed_at is None]
        current = [a for a in current if a.source is ActionSource.LADDER]
        expected = ladder.step_for(strike, strikes)
        if expected is None and not current:
            continue
        if expected is not None and len(current) == 1 and expected.matches(current[0]):
            continue
        to_reverse.extend(current)
        if expected is not None:
            to_add.append(expected.action_for(strike, now))
    return LadderCorrection(reverse=tuple(to_reverse), add=tuple(to_add))
