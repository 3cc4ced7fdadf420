"""Automation's mutations: define a rule (deprecated: rules of the rules language do it now), cut a rule over to the
rules engine, and submit a classifier's signal (decide, enqueue, or nothing, per score; and the rules it met)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import strawberry

from api.graphql.accepted_reports import AcceptedReports
from api.graphql.automation.types import AutomationRule, EnqueueReason, SignalRuleHit, rule_of, signal_rule_hit
from api.graphql.context import Context, Info
from api.graphql.ids import parse_id, to_global_id
from api.graphql.permissions import requires
from api.graphql.rule_evaluation import backlog_in, evaluate_hits
from api.graphql.runner import require_region, run
from api.graphql.shared.build import build
from api.graphql.shared.common import MutationError
from api.graphql.shared.inputs import SUBJECT_KINDS, ActionInput, subject_type
from api.graphql.shared.refs import CaseRef, DecisionRef, ReportRef, RuleRef
from authz.permissions import Permission
from domain.actor import Actor
from domain.automation import RuleSettings
from domain.enforcement import RequestedAction
from domain.region import Region
from domain.services.automation import (
    DefineAutomationRule,
    ScoreOutcome,
    SignalOutcome,
    SubmitSignal,
    define_automation_rule,
    submit_signal,
)
from domain.services.automation_cut_over import CutOver, cut_over_automation_rule
from domain.services.events import Accepted
from domain.services.intake_events import signal_events
from domain.services.rule_runs import HitRecord
from domain.subject import SubjectKind
from persistence.automation_cut_over import SqlCutOverStore
from persistence.repositories import PostgresUnitOfWork


@strawberry.input(description="Create the region's rule for (policy, classifier), or change its settings.")
class DefineAutomationRuleInput:
    region: Region
    policy_id: strawberry.ID
    classifier: str = strawberry.field(description="The classifier's name, as signals carry it.")
    enqueue_threshold: float = strawberry.field(description="0 to 1, below decideThreshold.")
    decide_threshold: float = strawberry.field(description="0 to 1.")
    actions: list[ActionInput] = strawberry.field(
        default_factory=list,
        description="Applied when the rule decides; banning, suspending, restricting features or holding ads "
        "needs accounts:ban in the region.",
    )
    enabled: bool = True


@strawberry.type
class DefineAutomationRuleSuccess:
    automation_rule: AutomationRule


@strawberry.input
class PolicyScoreInput:
    policy_id: strawberry.ID
    score: float = strawberry.field(description="0 to 1.")


@strawberry.input(description="A classifier's scores, per policy, on one subject (an Account, Content or Ad ID).")
class SubmitSignalInput:
    subject_id: strawberry.ID
    classifier: str
    scores: list[PolicyScoreInput] = strawberry.field(description="1 to 50, one per policy.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="At most 163 characters. A retry with the same key files nothing more and returns what the "
        "first one filed.",
    )


@strawberry.type(description="What one score of a signal did.")
class SignalScoreOutcome:
    policy_id: strawberry.ID
    score: float
    outcome: SignalOutcome
    rule: AutomationRule | None = strawberry.field(description="Null without policies:read in its region.")
    report: ReportRef | None = strawberry.field(description="The AUTOMATED report (DECIDED and ENQUEUED).")
    case: CaseRef | None = strawberry.field(description="The case the report folded into.")
    decision: DecisionRef | None = strawberry.field(description="The automated decision (DECIDED).")
    reason: EnqueueReason | None = strawberry.field(
        description="ENQUEUED: why the rule did not decide it (null for the other outcomes)."
    )
    rule_hits: list[SignalRuleHit] = strawberry.field(
        default_factory=list,
        description="The rules (SHADOW or LIVE) the score's signal.submitted event matched, run after the commit, "
        "and what became of their actions; after cutOverAutomationRule they act instead of the automation rule "
        "(whose outcome is then NO_RULE).",
    )


@strawberry.type
class SubmitSignalSuccess:
    outcomes: list[SignalScoreOutcome] = strawberry.field(description="One per score, in order.")


DefineAutomationRuleResult = Annotated[
    DefineAutomationRuleSuccess | MutationError, strawberry.union("DefineAutomationRuleResult")
]


@strawberry.input(description="An automation rule to hand over to the rules engine.")
class CutOverAutomationRuleInput:
    automation_rule_id: strawberry.ID


@strawberry.type
class CutOverAutomationRuleSuccess:
    automation_rule: AutomationRule = strawberry.field(description="Disabled now.")
    rules: list[RuleRef] = strawberry.field(description="The rules acting for it, LIVE, by name (decide, enqueue).")
    created_rules: int = strawberry.field(
        description="How many of them the cut-over created (an automation rule defined after the migration to "
        "rules had none): 0 or 2."
    )


CutOverAutomationRuleResult = Annotated[
    CutOverAutomationRuleSuccess | MutationError, strawberry.union("CutOverAutomationRuleResult")
]


def _cut_over_payload(done: CutOver) -> CutOverAutomationRuleSuccess:
    from api.graphql.rules.types import rule_of as rule_record  # another area's type, built at run time

    return CutOverAutomationRuleSuccess(
        automation_rule=rule_of(done.automation_rule),
        rules=[rule_record(rule, version) for rule, version in done.rules],
        created_rules=done.created,
    )


SubmitSignalResult = Annotated[SubmitSignalSuccess | MutationError, strawberry.union("SubmitSignalResult")]


def _define_command(context: Context, input: DefineAutomationRuleInput) -> DefineAutomationRule:
    require_region(context, Permission.POLICIES_PUBLISH, input.region.value)
    settings = RuleSettings(
        enqueue_threshold=input.enqueue_threshold,
        decide_threshold=input.decide_threshold,
        actions=tuple(RequestedAction(kind=a.kind, duration_days=a.duration_days) for a in input.actions),
        enabled=input.enabled,
    )
    policy_id = parse_id(input.policy_id, "Policy", field="policyId")
    return DefineAutomationRule(
        region=input.region, policy_id=policy_id, classifier=input.classifier, settings=settings
    )


def _signal_command(input: SubmitSignalInput) -> SubmitSignal:
    type_name = subject_type(input.subject_id, prefix="")
    kind: SubjectKind = SUBJECT_KINDS[type_name]
    scores = tuple(
        (parse_id(s.policy_id, "Policy", field=f"scores[{i}].policyId"), s.score) for i, s in enumerate(input.scores)
    )
    return SubmitSignal(
        subject_kind=kind,
        subject_id=parse_id(input.subject_id, type_name, field="subjectId"),
        classifier=input.classifier,
        scores=scores,
        idempotency_key=input.idempotency_key,
    )


def _outcome_of(context: Context, o: ScoreOutcome, hits: list[HitRecord]) -> SignalScoreOutcome:
    readable = o.rule is not None and context.permissions.allows(Permission.POLICIES_READ, o.rule.region.value)
    return SignalScoreOutcome(
        policy_id=strawberry.ID(to_global_id("Policy", o.policy_id)),
        score=o.score,
        outcome=o.outcome,
        rule=rule_of(o.rule) if readable and o.rule is not None else None,
        report=build(ReportRef, o.report) if o.report else None,
        case=build(CaseRef, o.case) if o.case else None,
        decision=build(DecisionRef, o.decision) if o.decision else None,
        reason=EnqueueReason(code=o.reason.code, message=o.reason.message) if o.reason else None,
        rule_hits=[signal_rule_hit(h) for h in hits],
    )


@strawberry.type
class AutomationMutation:
    @strawberry.mutation(
        extensions=requires(Permission.POLICIES_PUBLISH),
        deprecation_reason="Automation rules are rules of the rules language now: write new ones with createRule "
        "(docs/RULES.md, From threshold automation to rules) and hand existing ones over with cutOverAutomationRule.",
    )
    async def define_automation_rule(self, info: Info, input: DefineAutomationRuleInput) -> DefineAutomationRuleResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> DefineAutomationRuleSuccess:
            rule = await define_automation_rule(uow, actor, _define_command(info.context, input), SqlCutOverStore(uow))
            await uow.flush()  # the payload shows the stored version
            return DefineAutomationRuleSuccess(automation_rule=rule_of(rule))

        return await run(info, "defineAutomationRule", Permission.POLICIES_PUBLISH, command)

    @strawberry.mutation(
        extensions=requires(Permission.POLICIES_PUBLISH),
        description="Hand an automation rule over to the rules engine in one transaction: the rules migrated from "
        "it (created first, from the same translation, if it has none) become LIVE, a new version each, and it is "
        "disabled. Needs policies:publish (and the right to apply its actions) and rules:write in its region; a "
        "disabled automation rule (already cut over) is INVALID_STATE.",
    )
    async def cut_over_automation_rule(
        self, info: Info, input: CutOverAutomationRuleInput
    ) -> CutOverAutomationRuleResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> CutOverAutomationRuleSuccess:
            automation_rule_id = parse_id(input.automation_rule_id, "AutomationRule", field="automationRuleId")
            found = await uow.automation_rules.get(automation_rule_id)
            if found is not None:  # unknown or of another region: NOT_FOUND from the service
                require_region(info.context, Permission.RULES_WRITE, found.region.value, field="automationRuleId")
            store = SqlCutOverStore(uow)
            done = await cut_over_automation_rule(uow, store, actor, automation_rule_id, datetime.now(UTC))
            await uow.flush()  # the payload shows the stored version
            return _cut_over_payload(done)

        return await run(info, "cutOverAutomationRule", Permission.POLICIES_PUBLISH, command)

    @strawberry.mutation(
        extensions=requires(Permission.SIGNALS_CREATE),
        description="Apply the subject's region's automation rules to a classifier's scores: decide, enqueue, or "
        "nothing, per score.",
    )
    async def submit_signal(self, info: Info, input: SubmitSignalInput) -> SubmitSignalResult:
        accepted = AcceptedReports()
        events: list[Accepted] = []  # the signal's scores as events for the rules (domain.services.intake_events)
        backlog: list[uuid.UUID | None] = [None]  # their note in the rules' backlog, committed with them

        async def command(uow: PostgresUnitOfWork, actor: Actor) -> SubmitSignalSuccess:
            accepted.begin(uow)
            cmd = _signal_command(input)
            outcomes = await submit_signal(uow, actor, cmd)
            for outcome in outcomes:
                if outcome.report is not None:
                    await accepted.note(uow, outcome.report)
            events[:] = await signal_events(uow, cmd, uow.clock.now(), actor.id)
            backlog[0] = await backlog_in(info.context, uow, "submitSignal", events)
            return SubmitSignalSuccess(outcomes=[_outcome_of(info.context, o, []) for o in outcomes])

        reason = f"classifier signal: {input.classifier}"[:200]
        result = await run(info, "submitSignal", Permission.SIGNALS_CREATE, command, reason=reason)
        accepted.count(isinstance(result, SubmitSignalSuccess))
        if isinstance(result, SubmitSignalSuccess):
            hits = await evaluate_hits(info.context, events, backlog_id=backlog[0])
            if len(events) == len(result.outcomes):  # one event per score, in order (none: an unknown subject)
                for outcome, event in zip(result.outcomes, events, strict=True):
                    outcome.rule_hits = [signal_rule_hit(h) for h in hits if h.event_id == event.event_id]
        return result
