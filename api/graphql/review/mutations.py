"""Review's mutations: deciding and escalating cases, reviewing ads."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.ids import parse_id
from api.graphql.permissions import requires
from api.graphql.review.types import Case, Decision, EnforcementAction, Strike
from api.graphql.runner import run
from api.graphql.shared.build import build, build_all
from api.graphql.shared.common import MutationError
from api.graphql.shared.inputs import ActionInput
from api.graphql.shared.refs import AdRef
from authz.permissions import Permission
from domain.actor import Actor
from domain.decision import Verdict
from domain.enforcement import RequestedAction
from domain.services.ad import AdReviewOutcome, ReviewAd, review_ad
from domain.services.case import EscalateCase, escalate_case
from domain.services.decision import DecideCase, decide_case
from persistence.repositories import PostgresUnitOfWork


@strawberry.input
class DecideCaseInput:
    case_id: strawberry.ID
    verdict: Verdict
    policy_id: strawberry.ID = strawberry.field(
        description="The policy applied; the decision cites its version in force."
    )
    rationale: str
    actions: list[ActionInput] = strawberry.field(default_factory=list)
    dsa_keywords: list[str] = strawberry.field(
        default_factory=list,
        description="The DSA keywords (`KEYWORD_...`) its statement of reasons states, chosen among the cited "
        "policy version's `dsaKeywords` (another is INVALID_INPUT); none: the statement states no keyword.",
    )


@strawberry.type
class DecideCaseSuccess:
    decision: Decision
    case: Case
    actions: list[EnforcementAction]
    strikes: list[Strike]


@strawberry.input
class EscalateCaseInput:
    case_id: strawberry.ID
    reason: str


@strawberry.type
class EscalateCaseSuccess:
    case: Case


@strawberry.input
class ReviewAdInput:
    ad_id: strawberry.ID
    outcome: AdReviewOutcome
    rationale: str = ""
    policy_id: strawberry.ID | None = strawberry.field(default=None, description="Required to REJECT: an ADS policy.")
    restrictions: str | None = strawberry.field(default=None, description="Required for APPROVE_WITH_RESTRICTIONS.")


@strawberry.type
class ReviewAdSuccess:
    ad: AdRef
    case: Case
    decision: Decision
    actions: list[EnforcementAction]
    strikes: list[Strike]


DecideCaseResult = Annotated[DecideCaseSuccess | MutationError, strawberry.union("DecideCaseResult")]


EscalateCaseResult = Annotated[EscalateCaseSuccess | MutationError, strawberry.union("EscalateCaseResult")]


ReviewAdResult = Annotated[ReviewAdSuccess | MutationError, strawberry.union("ReviewAdResult")]


@strawberry.type
class ReviewMutation:
    @strawberry.mutation(
        extensions=requires(Permission.CASES_DECIDE),
        description="Decide a case. Two deciders at once: one wins, the other gets CONFLICT. Banning, "
        "suspending, restricting the features or holding the ads of an account, asked for or reached on the strike "
        "ladder, needs accounts:ban in the case's region (else FORBIDDEN, nothing decided).",
    )
    async def decide_case(self, info: Info, input: DecideCaseInput) -> DecideCaseResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> DecideCaseSuccess:
            case_id = parse_id(input.case_id, "Case", field="caseId")
            policy_id = parse_id(input.policy_id, "Policy", field="policyId")
            requested = tuple(RequestedAction(kind=a.kind, duration_days=a.duration_days) for a in input.actions)
            cmd = DecideCase(
                case_id=case_id,
                verdict=input.verdict,
                policy_id=policy_id,
                rationale=input.rationale,
                actions=requested,
                dsa_keywords=tuple(input.dsa_keywords),
            )
            result = await decide_case(uow, actor, cmd)
            return DecideCaseSuccess(
                decision=build(Decision, result.decision),
                case=build(Case, result.case),
                actions=build_all(EnforcementAction, list(result.actions)),
                strikes=build_all(Strike, list(result.strikes)),
            )

        return await run(info, "decideCase", Permission.CASES_DECIDE, command, reason=input.rationale)

    @strawberry.mutation(extensions=requires(Permission.CASES_ESCALATE))
    async def escalate_case(self, info: Info, input: EscalateCaseInput) -> EscalateCaseResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> EscalateCaseSuccess:
            cmd = EscalateCase(case_id=parse_id(input.case_id, "Case", field="caseId"), reason=input.reason)
            return EscalateCaseSuccess(case=build(Case, await escalate_case(uow, actor, cmd)))

        return await run(info, "escalateCase", Permission.CASES_ESCALATE, command, reason=input.reason)

    @strawberry.mutation(
        extensions=requires(Permission.ADS_REVIEW),
        description="Approve, approve with "
        "restrictions, or reject an ad citing an ADS policy (the advertiser's strike follows).",
    )
    async def review_ad(self, info: Info, input: ReviewAdInput) -> ReviewAdResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> ReviewAdSuccess:
            cmd = ReviewAd(
                ad_id=parse_id(input.ad_id, "Ad", field="adId"),
                outcome=input.outcome,
                rationale=input.rationale,
                policy_id=parse_id(input.policy_id, "Policy", field="policyId") if input.policy_id else None,
                restrictions=input.restrictions,
            )
            result = await review_ad(uow, actor, cmd)
            return ReviewAdSuccess(
                ad=build(AdRef, result.ad),
                case=build(Case, result.case),
                decision=build(Decision, result.decision),
                actions=build_all(EnforcementAction, list(result.actions)),
                strikes=build_all(Strike, list(result.strikes)),
            )

        return await run(info, "reviewAd", Permission.ADS_REVIEW, command, reason=input.rationale or None)
