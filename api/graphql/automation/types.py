"""The automation rule record (and the actions it applies)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.context import Info
from api.graphql.shared.build import build, one
from api.graphql.shared.refs import PolicyRef
from domain.automation import AutomationRule as AutomationRuleEntity
from domain.enforcement import ActionKind
from domain.region import Region
from domain.services.automation import EnqueueReasonCode, SignalOutcome

strawberry.enum(
    SignalOutcome,
    description="What a score did: DECIDED (automated VIOLATING decision), ENQUEUED (AUTOMATED report for a "
    "human), IGNORED (below the enqueue threshold), NO_RULE (no enabled rule for the policy and classifier).",
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
