"""Automation rule aggregate: classifier scores under one policy, in one region, turned into decisions or reports.

A rule is identified by (region, policy, classifier). A classifier score (0 to 1) of the policy on a subject of
the region falls in one band (``Band``): at or above ``decide_threshold`` the rule decides the subject's case
VIOLATING with its ``actions`` (an automated decision); at or above ``enqueue_threshold`` it files an AUTOMATED
report so a human reviews it; below, nothing happens. A disabled rule does nothing at all.

``actions`` are stored encoded (``"KIND"`` or ``"KIND:days"``, see ``encode_action``) so the row stays flat;
``requested_actions`` decodes them.

``threshold_rule_sources`` writes a rule as the two rules of the rules language it becomes (migrated by 0012, or
created by a cut-over: ``domain.services.automation_cut_over``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
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

    def disable(self, now: datetime) -> None:
        """Stop acting (a cut-over to the rules engine: ``domain.services.automation_cut_over``)."""
        if self.enabled:
            self.enabled = False
            self.updated_at = now

    def band(self, score: float) -> Band:
        if score >= self.decide_threshold:
            return Band.DECIDE
        if score >= self.enqueue_threshold:
            return Band.ENQUEUE
        return Band.IGNORE


def _encoded(actions: Sequence[RequestedAction]) -> tuple[str, ...]:
    return tuple(encode_action(a) for a in actions)


#: The description of the rules an automation rule becomes (migration 0012 wrote the same).
MIGRATED_DESCRIPTION = "Migrated from an automation rule (classifier thresholds)."


def _number(value: float) -> str:
    """A float as the rules language writes numbers (no exponent), parsing back to the same float."""
    text = format(Decimal(repr(float(value))), "f")
    return text if "." in text else f"{text}.0"


def _string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


@dataclass(frozen=True)
class ThresholdRuleSource:
    """One rule of the language an automation rule becomes: its name and text, and which band it stands for."""

    band: Band
    name: str
    source: str


def threshold_rule_sources(rule: AutomationRule, policy_code: str) -> tuple[ThresholdRuleSource, ThresholdRuleSource]:
    """An automation rule as two rules of the language on ``signal.submitted`` events of its region, policy and
    classifier: at or above ``decide_threshold`` one decides with its actions; from ``enqueue_threshold`` up to
    it the other holds the subject for a human (``hold()``: an AUTOMATED report whose case routing queues, as the
    automation rule files). Migration 0012 wrote the same text with the enqueue band's action as
    ``open_case(queue="automation", priority=50)``, which 0020 rewrote to ``hold()``; the migrations keep their own
    frozen copy (a test holds the three to the same text)."""
    base = f"threshold {policy_code} {rule.classifier[:100]} {rule.id.hex[:8]}"
    head = f"on signal.submitted\nin {rule.region.value}\npolicy {policy_code}\n"
    signal = f"signal({_string(rule.classifier)})"
    match = f"classifier == {_string(rule.classifier)} and policy_code == {_string(policy_code)}"
    decided = ", ".join(_string(a) for a in rule.actions)
    decide_text = (
        f"rule {_string(base + ' decide')}\n{head}when {match} and {signal} >= {_number(rule.decide_threshold)}\n"
        f"then decide({decided})\n"
    )
    enqueue_text = (
        f"rule {_string(base + ' enqueue')}\n{head}"
        f"when {match} and {signal} >= {_number(rule.enqueue_threshold)} and {signal} < "
        f"{_number(rule.decide_threshold)}\nthen hold()\n"
    )
    return (
        ThresholdRuleSource(Band.DECIDE, f"{base} decide", decide_text),
        ThresholdRuleSource(Band.ENQUEUE, f"{base} enqueue", enqueue_text),
    )
