"""Automation rule aggregate: classifier scores under one policy, in one region, turned into decisions or reports.

A rule is identified by (region, policy, classifier). A classifier score (0 to 1) of the policy on a subject of
the region falls in one band (``Band``): at or above ``decide_threshold`` the rule decides the subject's case
VIOLATING with its ``actions`` (an automated decision); at or above ``enqueue_threshold`` it files an AUTOMATED
report so a human reviews it; below, nothing happens. A disabled rule does nothing at all.

``actions`` are stored encoded (``"KIND"`` or ``"KIND:days"``, see ``encode_action``) so the row stays flat;
``requested_actions`` decodes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain import limits, seniority
from domain.actor import Actor, ActorKind
from domain.enforcement import REQUIRED_CAPABILITY, ActionKind, RequestedAction, validate_requested
from domain.errors import DomainError
from domain.region import Region
from domain.subject import CASE_SURFACE, SubjectKind, Surface

#: The subject kind a policy surface primarily applies to (a rule's actions are validated against it).
SURFACE_SUBJECT: dict[Surface, SubjectKind] = {surface: kind for kind, surface in CASE_SURFACE.items()}


class Band(StrEnum):
    DECIDE = "DECIDE"
    ENQUEUE = "ENQUEUE"
    IGNORE = "IGNORE"


def encode_action(action: RequestedAction) -> str:
    return action.kind.value if action.duration_days is None else f"{action.kind.value}:{action.duration_days}"


def decode_action(encoded: str) -> RequestedAction:
    kind, _, days = encoded.partition(":")
    return RequestedAction(ActionKind(kind), int(days) if days else None)


def validate_score(score: float, *, field: str = "score") -> float:
    if not 0 <= score <= 1:  # also refuses NaN
        raise DomainError.invalid_input(f"{field} must be between 0 and 1", field)
    return score


@dataclass(frozen=True)
class RuleSettings:
    """Everything ``defineAutomationRule`` sets (the identity is region + policy + classifier)."""

    enqueue_threshold: float
    decide_threshold: float
    actions: tuple[RequestedAction, ...] = ()
    enabled: bool = True

    def validate(self, subject_kind: SubjectKind) -> None:
        """Thresholds in [0, 1] with enqueue < decide; actions valid on ``subject_kind`` as a decider's would be."""
        validate_score(self.enqueue_threshold, field="enqueueThreshold")
        validate_score(self.decide_threshold, field="decideThreshold")
        if self.enqueue_threshold >= self.decide_threshold:
            raise DomainError.invalid_input("enqueueThreshold must be below decideThreshold", "enqueueThreshold")
        validate_requested(self.actions, subject_kind)


@dataclass(kw_only=True)
class AutomationRule:
    """Unique by (region, policy_id, classifier)."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    policy_id: uuid.UUID
    classifier: str
    enqueue_threshold: float
    decide_threshold: float
    actions: tuple[str, ...] = ()
    enabled: bool = True
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def define(
        cls,
        *,
        region: Region,
        policy_id: uuid.UUID,
        classifier: str,
        surface: Surface,
        settings: RuleSettings,
        now: datetime,
    ) -> AutomationRule:
        limits.text(classifier, field="classifier", max_len=limits.NAME_MAX)
        rule = cls(
            region=region,
            policy_id=policy_id,
            classifier=classifier,
            enqueue_threshold=settings.enqueue_threshold,
            decide_threshold=settings.decide_threshold,
            created_at=now,
            updated_at=now,
        )
        rule.configure(settings, surface, now)
        return rule

    def configure(self, settings: RuleSettings, surface: Surface, now: datetime) -> None:
        """Apply new settings (validated against the policy's ``surface``); unchanged settings change nothing."""
        settings.validate(SURFACE_SUBJECT[surface])
        new = (settings.enqueue_threshold, settings.decide_threshold, _encoded(settings.actions), settings.enabled)
        if new == (self.enqueue_threshold, self.decide_threshold, self.actions, self.enabled):
            return
        self.enqueue_threshold, self.decide_threshold, self.actions, self.enabled = new
        self.updated_at = now

    @property
    def requested_actions(self) -> tuple[RequestedAction, ...]:
        return tuple(decode_action(a) for a in self.actions)

    @property
    def actor(self) -> Actor:
        """Who its automated decisions are by: the rule itself, with the least seniority, holding in its region
        the capabilities its own actions need (its definer was checked for them: ``define_automation_rule``).
        A ladder step beyond them (a rule that removes content reaching a ban) is left to a human."""
        needed = {REQUIRED_CAPABILITY[a.kind] for a in self.requested_actions if a.kind in REQUIRED_CAPABILITY}
        return Actor(
            id=f"automation:{self.id}",
            kind=ActorKind.AUTOMATION,
            seniority=seniority.AUTOMATION,
            capabilities=frozenset((capability, self.region) for capability in needed),
        )

    def band(self, score: float) -> Band:
        if score >= self.decide_threshold:
            return Band.DECIDE
        if score >= self.enqueue_threshold:
            return Band.ENQUEUE
        return Band.IGNORE


def _encoded(actions: Sequence[RequestedAction]) -> tuple[str, ...]:
    return tuple(encode_action(a) for a in actions)
