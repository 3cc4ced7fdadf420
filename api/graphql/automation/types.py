"""The automation rule record (and the actions it applies)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.context import Info
from api.graphql.ids import to_global_id
from api.graphql.shared.build import build, one
from api.graphql.shared.refs import PolicyRef, RuleHitActionRef
from domain.automation import AutomationRule as AutomationRuleEntity
from domain.enforcement import ActionKind
from domain.region import Region
from domain.services.automation import EnqueueReasonCode, SignalOutcome
from domain.services.rule_runs import HitRecord

strawberry.enum(
    SignalOutcome,
    description="What a score did through its automation rule: DECIDED (automated VIOLATING decision), ENQUEUED "
    "(AUTOMATED report for a human), IGNORED (below the enqueue threshold), NO_RULE (no enabled automation rule for "
    "the policy and classifier: after cutOverAutomationRule the rules act, see ruleHits).",
)


strawberry.enum(
    EnqueueReasonCode,
    description="Why a score was ENQUEUED rather than DECIDED: BELOW_DECIDE_THRESHOLD (between the rule's two "
    "thresholds), CASE_ESCALATED (a senior moderator "
    "decides it), CASE_HELD (a moderator holds it), AD_UNDER_REVIEW (a pending ad's review case: reviewAd "
    "decides it), ACTIONS_NOT_APPLICABLE (the rule's actions do not apply to the subject), "
    "LADDER_STEP_NEEDS_PERMISSION (the strike ladder's next step for the account, or an action, needs a right "
    "the rule does not hold, e.g. accounts:ban), REPLAYED (a retry of a signal whose score was enqueued).",
)


@strawberry.type(description="Why a score was enqueued for a human: a code and a readable message.")
class EnqueueReason:
    code: EnqueueReasonCode
    message: str


@strawberry.type(description="An action an automation rule applies when it decides; durationDays null: permanent.")
class AutomationAction:
    kind: ActionKind
    duration_days: int | None


@strawberry.type(
    description="Classifier scores of one policy in one region: at or above decideThreshold the rule decides "
    "VIOLATING with its actions (automated); at or above enqueueThreshold it files an AUTOMATED report; below, "
    "nothing. Unique by (region, policy, classifier)."
)
class AutomationRule:
    id: strawberry.ID
    entity: strawberry.Private[AutomationRuleEntity]
    region: Region
    classifier: str
    enqueue_threshold: float = strawberry.field(description="0 to 1; a score at or above it is enqueued.")
    decide_threshold: float = strawberry.field(description="0 to 1; a score at or above it is decided.")
    enabled: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @strawberry.field
    def actions(self) -> list[AutomationAction]:
        return [AutomationAction(kind=a.kind, duration_days=a.duration_days) for a in self.entity.requested_actions]

    @strawberry.field
    async def policy(self, info: Info) -> PolicyRef | None:
        return one(info, PolicyRef, await info.context.loaders.policy.load(self.entity.policy_id))


def rule_of(entity: AutomationRuleEntity) -> AutomationRule:
    return build(AutomationRule, entity)


@strawberry.type(
    description="A rule (SHADOW or LIVE) that a score's signal.submitted event matched, and what became of each of "
    "its actions: after cutOverAutomationRule, a decide rule's DECIDE TAKEN (`decision <id>`) or WITHHELD (`left to "
    "a human in case ...`) and an enqueue rule's HOLD TAKEN (`case <id>`) are what DECIDED and ENQUEUED were."
)
class SignalRuleHit:
    rule_id: strawberry.ID = strawberry.field(description="The Rule (reading it needs rules:read in its region).")
    rule_version: int
    mode: str = strawberry.field(description="SHADOW (nothing done) or LIVE.")
    actions: list[RuleHitActionRef]


def signal_rule_hit(hit: HitRecord) -> SignalRuleHit:
    from api.graphql.rules.hits import RuleHitAction  # another area's type, built at run time (shared.refs)

    actions = [
        RuleHitAction(
            action=a.action,
            outcome=a.outcome.value,
            reason=a.reason,
            case_id=None if a.case_id is None else strawberry.ID(to_global_id("Case", a.case_id)),
        )
        for a in hit.actions
    ]
    return SignalRuleHit(
        rule_id=strawberry.ID(to_global_id("Rule", hit.rule.rule_id)),
        rule_version=hit.rule.version,
        mode=hit.mode,
        actions=actions,
    )
