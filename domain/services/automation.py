"""Automation: defining rules, and turning a classifier signal into automated decisions or AUTOMATED reports.

The rules engine does this now: each automation rule is two rules of the rules language (migrated in SHADOW, or
created by the cut-over) and ``domain.services.automation_cut_over`` makes them LIVE and disables the automation
rule, after which ``submit_signal`` answers NO_RULE for it and the rules act on the signal's events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from domain import limits
from domain.actor import Actor
from domain.automation import SURFACE_SUBJECT, AutomationRule, Band, RuleSettings, validate_score
from domain.case import Case, CaseState
from domain.config import DEFAULT_CONFIG, DomainConfig
from domain.decision import Decision, Verdict
from domain.enforcement import ensure_may_apply, validate_requested
from domain.errors import DomainError, ErrorCode
from domain.ports import UnitOfWork
from domain.region import Region
from domain.report import Report, ReportSource
from domain.services.case import get_case
from domain.services.decision import DecideCase, decide_case, ensure_not_ad_review
from domain.services.enforcement import ensure_may_enforce
from domain.services.policy import policy_in_force
from domain.services.report import SubmitReport, submit_report
from domain.services.rules import Rule, RuleState, RuleVersion
from domain.services.subject import load_subject
from domain.subject import Subject, SubjectKind, ensure_policy_applies

SCORES_MAX: Final = 50
#: A signal's key plus ":<policy uuid>" is the idempotency key of each report it files.
SIGNAL_KEY_MAX: Final = limits.IDEMPOTENCY_KEY_MAX - 37


@dataclass(frozen=True)
class DefineAutomationRule:
    region: Region
    policy_id: uuid.UUID
    classifier: str
    settings: RuleSettings


class MigratedRules(Protocol):
    async def migrated_from(self, automation_rule_id: uuid.UUID) -> list[tuple[Rule, RuleVersion]]:
        """The rules of the rules engine migrated from the automation rule (``domain.services.automation_cut_over``)."""
        ...


async def define_automation_rule(
    uow: UnitOfWork, actor: Actor, cmd: DefineAutomationRule, migrated: MigratedRules
) -> AutomationRule:
    """Create the region's rule for (policy, classifier), or reconfigure it. The rule applies its actions in
    its own name, so its definer must be allowed to apply them in the region (``ensure_may_apply``).

    A rule cut over to the rules engine is not enabled again while any of its rules is LIVE: both would act on
    every signal (INVALID_STATE; take the rules out of LIVE first, or change them with ``updateRule``)."""
    policy, _ = await policy_in_force(uow, cmd.policy_id)
    cmd.settings.validate(SURFACE_SUBJECT[policy.surface])  # bad input is INVALID_INPUT before anything else
    ensure_may_apply(actor, [a.kind for a in cmd.settings.actions], cmd.region)
    now = uow.clock.now()
    rule = await uow.automation_rules.get_for(cmd.region, policy.id, cmd.classifier)
    if rule is None:
        rule = AutomationRule.define(
            region=cmd.region,
            policy_id=policy.id,
            classifier=cmd.classifier,
            surface=policy.surface,
            settings=cmd.settings,
            now=now,
        )
        uow.automation_rules.add(rule)
    else:
        if cmd.settings.enabled and not rule.enabled:
            live = sorted(r.name for r, _ in await migrated.migrated_from(rule.id) if r.state is RuleState.LIVE)
            if live:
                raise DomainError.invalid_state(
                    f"the rules engine acts for this rule since its cut-over (LIVE: {', '.join(live)}); enabling it "
                    "again would act twice on every signal: change those rules (updateRule), or take them out of LIVE "
                    "(transitionRule) first",
                    "enabled",
                )
        rule.configure(cmd.settings, policy.surface, now)
    return rule


class SignalOutcome(StrEnum):
    DECIDED = "DECIDED"
    ENQUEUED = "ENQUEUED"
    IGNORED = "IGNORED"
    NO_RULE = "NO_RULE"


class EnqueueReasonCode(StrEnum):
    """Why a score was ENQUEUED for a human rather than DECIDED by its rule."""

    BELOW_DECIDE_THRESHOLD = "BELOW_DECIDE_THRESHOLD"
    CASE_ESCALATED = "CASE_ESCALATED"
    CASE_HELD = "CASE_HELD"
    AD_UNDER_REVIEW = "AD_UNDER_REVIEW"
    ACTIONS_NOT_APPLICABLE = "ACTIONS_NOT_APPLICABLE"
    LADDER_STEP_NEEDS_PERMISSION = "LADDER_STEP_NEEDS_PERMISSION"
    REPLAYED = "REPLAYED"


@dataclass(frozen=True)
class EnqueueReason:
    code: EnqueueReasonCode
    message: str


@dataclass(frozen=True)
class SubmitSignal:
    """``scores``: (policy id, score in [0, 1]) pairs, one per policy."""

    subject_kind: SubjectKind
    subject_id: uuid.UUID
    classifier: str
    scores: tuple[tuple[uuid.UUID, float], ...]
    idempotency_key: str | None = None

    def validate(self) -> None:
        limits.text(self.classifier, field="classifier", max_len=limits.NAME_MAX)
        if not 1 <= len(self.scores) <= SCORES_MAX:
            raise DomainError.invalid_input(f"a signal carries 1 to {SCORES_MAX} scores", "scores")
        if len({policy_id for policy_id, _ in self.scores}) != len(self.scores):
            raise DomainError.invalid_input("a policy may be scored only once per signal", "scores")
        for _, score in self.scores:
            validate_score(score, field="scores")
        if self.idempotency_key is not None:
            limits.text(self.idempotency_key, field="idempotencyKey", max_len=SIGNAL_KEY_MAX)

    def report_key(self, policy_id: uuid.UUID) -> str | None:
        return None if self.idempotency_key is None else f"{self.idempotency_key}:{policy_id}"


@dataclass(frozen=True)
class ScoreOutcome:
    """What one score did. DECIDED: ``report``, ``case`` and the automated ``decision``; ENQUEUED: the AUTOMATED
    ``report`` and the open ``case`` it folded into; IGNORED: below the rule's enqueue threshold; NO_RULE: the
    region has no enabled rule for the policy and classifier."""

    policy_id: uuid.UUID
    score: float
    outcome: SignalOutcome
    rule: AutomationRule | None = None
    report: Report | None = None
    case: Case | None = None
    decision: Decision | None = None
    reason: EnqueueReason | None = None  # ENQUEUED only: why a human decides it


async def submit_signal(
    uow: UnitOfWork, actor: Actor, cmd: SubmitSignal, config: DomainConfig = DEFAULT_CONFIG
) -> list[ScoreOutcome]:
    """Apply the region's rules to each score, in order. A retry with the same (actor, idempotency_key)
    returns what the first one filed and files nothing more."""
    cmd.validate()
    subject = await load_subject(uow, cmd.subject_kind, cmd.subject_id)
    for policy_id, _ in cmd.scores:  # every check before the first write
        policy, _ = await policy_in_force(uow, policy_id, field="scores")
        ensure_policy_applies(subject.kind, policy.surface, field="scores")
    return [await _apply(uow, actor, cmd, subject, policy_id, score, config) for policy_id, score in cmd.scores]


async def _apply(
    uow: UnitOfWork,
    actor: Actor,
    cmd: SubmitSignal,
    subject: Subject,
    policy_id: uuid.UUID,
    score: float,
    config: DomainConfig,
) -> ScoreOutcome:
    rule = await uow.automation_rules.get_for(subject.region, policy_id, cmd.classifier)
    key = cmd.report_key(policy_id)
    earlier = await uow.reports.get_by_idempotency_key(actor.id, key) if key is not None else None
    if earlier is not None:
        return await _replayed(uow, earlier, score, rule)
    if rule is None or not rule.enabled:
        return ScoreOutcome(policy_id, score, SignalOutcome.NO_RULE)
    band = rule.band(score)
    if band is Band.IGNORE:
        return ScoreOutcome(policy_id, score, SignalOutcome.IGNORED, rule)
    report = await _file(uow, actor, cmd, rule, subject, score, config)
    case = await get_case(uow, report.case_id)
    reason = _below(rule, score) if band is Band.ENQUEUE else await _why_not_decide(uow, rule, case, subject, config)
    if reason is not None:
        return ScoreOutcome(policy_id, score, SignalOutcome.ENQUEUED, rule, report, case, reason=reason)
    decided = await decide_case(uow, rule.actor, _decide_cmd(rule, case, score), config)
    return ScoreOutcome(policy_id, score, SignalOutcome.DECIDED, rule, report, decided.case, decided.decision)


async def _file(
    uow: UnitOfWork,
    actor: Actor,
    cmd: SubmitSignal,
    rule: AutomationRule,
    subject: Subject,
    score: float,
    config: DomainConfig,
) -> Report:
    thresholds = f"enqueue at {rule.enqueue_threshold:g}, decide at {rule.decide_threshold:g}"
    text = f"{cmd.classifier} scored {score:g} ({thresholds})"
    report = SubmitReport(
        subject_kind=subject.kind,
        subject_id=subject.id,
        policy_id=rule.policy_id,
        source=ReportSource.AUTOMATED,
        text=text,
        idempotency_key=cmd.report_key(rule.policy_id),
    )
    return await submit_report(uow, actor, report, config)


def _below(rule: AutomationRule, score: float) -> EnqueueReason:
    return EnqueueReason(
        EnqueueReasonCode.BELOW_DECIDE_THRESHOLD,
        f"the score {score:g} is below the rule's decide threshold {rule.decide_threshold:g}",
    )


async def _why_not_decide(
    uow: UnitOfWork, rule: AutomationRule, case: Case, subject: Subject, config: DomainConfig
) -> EnqueueReason | None:
    """Why the rule may not decide the case (None: it may): escalated, held by a moderator (the case is open: a
    report folds into the subject's open case or opens one), a pending ad's review, actions that do not apply to
    the subject, or a ladder step beyond what the rule may apply. Exactly ``decide_case``'s checks, authority
    included (``ensure_may_enforce``), in its order."""
    code = EnqueueReasonCode
    try:
        case.ensure_decidable_by(rule.actor, uow.clock.now())
    except DomainError as exc:
        escalated = case.state is CaseState.ESCALATED and exc.code is ErrorCode.FORBIDDEN
        return EnqueueReason(code.CASE_ESCALATED if escalated else code.CASE_HELD, exc.message)
    try:
        validate_requested(rule.requested_actions, case.subject_kind)
    except DomainError as exc:
        return EnqueueReason(code.ACTIONS_NOT_APPLICABLE, exc.message)
    try:
        await ensure_not_ad_review(uow, case)
    except DomainError as exc:
        return EnqueueReason(code.AD_UNDER_REVIEW, exc.message)
    cited = await policy_in_force(uow, rule.policy_id)  # checked before the first write: in force
    try:
        await ensure_may_enforce(uow, rule.actor, subject, cited, rule.requested_actions, config)
    except DomainError as exc:
        return EnqueueReason(code.LADDER_STEP_NEEDS_PERMISSION, exc.message)
    return None


def _decide_cmd(rule: AutomationRule, case: Case, score: float) -> DecideCase:
    rationale = f"Automated: classifier {rule.classifier} scored {score:g}, at or above {rule.decide_threshold:g}."
    return DecideCase(
        case_id=case.id,
        verdict=Verdict.VIOLATING,
        policy_id=rule.policy_id,
        rationale=rationale,
        actions=rule.requested_actions,
    )


async def _replayed(uow: UnitOfWork, report: Report, score: float, rule: AutomationRule | None) -> ScoreOutcome:
    case = await get_case(uow, report.case_id)
    decision = await uow.decisions.get(case.decision_id) if case.decision_id is not None else None
    if decision is not None and decision.automated:
        return ScoreOutcome(report.policy_id, score, SignalOutcome.DECIDED, rule, report, case, decision)
    replayed = EnqueueReason(
        EnqueueReasonCode.REPLAYED, "a retry of an earlier signal: its report was filed then, and a human decides it"
    )
    return ScoreOutcome(report.policy_id, score, SignalOutcome.ENQUEUED, rule, report, case, reason=replayed)
