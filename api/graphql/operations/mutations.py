"""Operations' mutations: define a queue, reroute unqueued cases, claim and release cases, submit QA reviews."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

import api.graphql.shared.enums  # noqa: F401  (registers the domain enums)
from api.graphql.context import Info
from api.graphql.ids import parse_id
from api.graphql.operations.types import QaReview, Queue, qa_review_of, queue_of
from api.graphql.permissions import requires
from api.graphql.runner import require_region, run, run_prefetched
from api.graphql.shared.access import roles_in
from api.graphql.shared.build import build, many
from api.graphql.shared.common import MutationError, error_from
from api.graphql.shared.refs import CaseRef
from authz.permissions import Permission
from authz.roles import validate_role
from domain.actor import Actor
from domain.decision import Verdict
from domain.errors import DomainError
from domain.qa import QaOutcome, QaVerdict
from domain.queue import QA_SAMPLE_BP_MAX, QueueSettings, QueueSurface
from domain.region import Region
from domain.services.qa import SubmitQaReview, submit_qa_review
from domain.services.queue import (
    REROUTE_MAX,
    ClaimNextCase,
    ClaimReads,
    DefineQueue,
    ReleaseCase,
    RerouteCases,
    claim_next_case,
    define_queue,
    get_queue,
    release_case,
    reroute_cases,
)
from persistence import operations as ops
from persistence.fast.claims import ClaimUnitOfWork
from persistence.fast.sql import Pool
from persistence.queries.waiting import unqueued_cases
from persistence.repositories import PostgresUnitOfWork
from persistence.uow import AuditContext


@strawberry.input
class SlaHoursInput:
    urgent: int = 4
    high: int = 12
    medium: int = 24
    low: int = 48


@strawberry.input(description="Create the region's queue of this name, or change its settings.")
class DefineQueueInput:
    region: Region
    name: str
    surface: QueueSurface
    roles: list[str] = strawberry.field(description="Roles that may work it, e.g. moderator, vendor_moderator.")
    policies: list[str] = strawberry.field(default_factory=list, description="Policy codes to route; empty: any.")
    languages: list[str] = strawberry.field(default_factory=list, description="Languages to route; empty: any.")
    sla_hours: SlaHoursInput = strawberry.field(default_factory=SlaHoursInput)
    routing_rank: int | None = strawberry.field(default=None, description="Routing order, lowest first.")
    is_default: bool = False
    escalation_queue_id: strawberry.ID | None = None
    qa_sample_rate: float = strawberry.field(default=0.05, description="Share of decisions sampled for QA, 0 to 1.")


@strawberry.type
class DefineQueueSuccess:
    queue: Queue


@strawberry.input
class ClaimNextCaseInput:
    queue_id: strawberry.ID
    renew_case_id: strawberry.ID | None = strawberry.field(
        default=None, description="Renew your lease on this case of the queue instead of taking a new one."
    )


@strawberry.type
class ClaimNextCaseSuccess:
    case: CaseRef | None = strawberry.field(description="The leased case; null when nothing is free for you.")


@strawberry.input
class ReleaseCaseInput:
    case_id: strawberry.ID


@strawberry.type
class ReleaseCaseSuccess:
    case: CaseRef


@strawberry.input
class SubmitQaReviewInput:
    case_id: strawberry.ID
    agrees: bool
    correct_verdict: Verdict | None = strawberry.field(default=None, description="Required when disagreeing.")
    correct_policy_id: strawberry.ID | None = None
    notes: str | None = None
    open_corrective_case: bool = strawberry.field(
        default=False, description="On a disagreement with a VIOLATING decision: open an escalated corrective case."
    )


@strawberry.type
class SubmitQaReviewSuccess:
    qa_review: QaReview
    corrective_case: CaseRef | None


@strawberry.input
class RerouteCasesInput:
    region: Region
    limit: int = strawberry.field(
        default=REROUTE_MAX, description=f"At most this many cases, most urgent first (1 to {REROUTE_MAX})."
    )


@strawberry.type
class RerouteCasesSuccess:
    routed_count: int = strawberry.field(description="Cases that joined a queue.")
    unmatched_count: int = strawberry.field(description="Cases no queue takes yet: they keep waiting unqueued.")
    cases: list[CaseRef] = strawberry.field(description="The routed cases you may see, with their new queue and SLA.")


DefineQueueResult = Annotated[DefineQueueSuccess | MutationError, strawberry.union("DefineQueueResult")]


ClaimNextCaseResult = Annotated[ClaimNextCaseSuccess | MutationError, strawberry.union("ClaimNextCaseResult")]


ReleaseCaseResult = Annotated[ReleaseCaseSuccess | MutationError, strawberry.union("ReleaseCaseResult")]


SubmitQaReviewResult = Annotated[SubmitQaReviewSuccess | MutationError, strawberry.union("SubmitQaReviewResult")]


RerouteCasesResult = Annotated[RerouteCasesSuccess | MutationError, strawberry.union("RerouteCasesResult")]


def _settings(input: DefineQueueInput) -> QueueSettings:
    try:
        roles = tuple(validate_role(r).value for r in input.roles)
    except ValueError as exc:
        raise DomainError.invalid_input(str(exc), "roles") from None
    esc = input.escalation_queue_id
    s = input.sla_hours
    if not 0 <= input.qa_sample_rate <= 1:
        raise DomainError.invalid_input("qaSampleRate must be between 0 and 1", "qaSampleRate")
    return QueueSettings(
        surface=input.surface,
        roles=roles,
        policies=tuple(input.policies),
        languages=tuple(input.languages),
        sla_hours=(s.urgent, s.high, s.medium, s.low),
        routing_rank=input.routing_rank,
        is_default=input.is_default,
        escalation_queue_id=parse_id(esc, "Queue", field="escalationQueueId") if esc else None,
        qa_sample_bp=round(input.qa_sample_rate * QA_SAMPLE_BP_MAX),
    )


@strawberry.type
class OperationsMutation:
    @strawberry.mutation(extensions=requires(Permission.QUEUES_MANAGE))
    async def define_queue(self, info: Info, input: DefineQueueInput) -> DefineQueueResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> DefineQueueSuccess:
            require_region(info.context, Permission.QUEUES_MANAGE, input.region.value)
            cmd = DefineQueue(region=input.region, name=input.name, settings=_settings(input))
            queue = await define_queue(uow, actor, cmd)
            await uow.flush()
            backlog = await ops.qa_backlog(uow.session, [queue.id])
            return DefineQueueSuccess(queue=queue_of(queue, backlog[queue.id]))

        return await run(info, "defineQueue", Permission.QUEUES_MANAGE, command)

    @strawberry.mutation(
        extensions=requires(Permission.QUEUES_MANAGE),
        description="Route the region's open cases that wait outside any queue (opened before a fitting queue "
        "existed) with the current routing rules; each moved case is audited.",
    )
    async def reroute_cases(self, info: Info, input: RerouteCasesInput) -> RerouteCasesResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> RerouteCasesSuccess:
            require_region(info.context, Permission.QUEUES_MANAGE, input.region.value)
            cmd = RerouteCases(region=input.region, limit=input.limit)
            outcome = await reroute_cases(uow, actor, cmd, unqueued_cases(uow))
            return RerouteCasesSuccess(
                routed_count=len(outcome.routed),
                unmatched_count=outcome.unmatched,
                cases=many(info, CaseRef, outcome.routed),
            )

        return await run(info, "rerouteCases", Permission.QUEUES_MANAGE, command)

    @strawberry.mutation(
        extensions=requires(Permission.CASES_CLAIM),
        description="Lease the most urgent free case of a queue you may work (renewCaseId: renew a lease you hold).",
    )
    async def claim_next_case(self, info: Info, input: ClaimNextCaseInput) -> ClaimNextCaseResult:
        try:
            queue_id = parse_id(input.queue_id, "Queue", field="queueId")
            renew = parse_id(input.renew_case_id, "Case", field="renewCaseId") if input.renew_case_id else None
        except DomainError as exc:
            return error_from(exc)

        def open_uow(pool: Pool, audit: AuditContext, actor: Actor, regions: frozenset[str] | None) -> Any:
            return ClaimUnitOfWork(pool, audit, ClaimReads.of(actor, queue_id, renew), regions=regions)

        async def command(uow: ClaimUnitOfWork, actor: Actor) -> ClaimNextCaseSuccess:
            queue = await get_queue(uow, queue_id)
            cmd = ClaimNextCase(queue_id=queue.id, roles=roles_in(info.context, queue.region), renew_case_id=renew)
            case = await claim_next_case(uow, actor, cmd)
            return ClaimNextCaseSuccess(case=build(CaseRef, case) if case else None)

        return await run_prefetched(info, "claimNextCase", Permission.CASES_CLAIM, open_uow, command)

    @strawberry.mutation(extensions=requires(Permission.CASES_CLAIM), description="Give a held case back.")
    async def release_case(self, info: Info, input: ReleaseCaseInput) -> ReleaseCaseResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> ReleaseCaseSuccess:
            cmd = ReleaseCase(case_id=parse_id(input.case_id, "Case", field="caseId"))
            return ReleaseCaseSuccess(case=build(CaseRef, await release_case(uow, actor, cmd)))

        return await run(info, "releaseCase", Permission.CASES_CLAIM, command)

    @strawberry.mutation(extensions=requires(Permission.QA_REVIEW))
    async def submit_qa_review(self, info: Info, input: SubmitQaReviewInput) -> SubmitQaReviewResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> SubmitQaReviewSuccess:
            policy = input.correct_policy_id
            verdict = QaVerdict(
                outcome=QaOutcome.AGREE if input.agrees else QaOutcome.DISAGREE,
                correct_verdict=input.correct_verdict,
                correct_policy_id=parse_id(policy, "Policy", field="correctPolicyId") if policy else None,
                notes=input.notes,
            )
            cmd = SubmitQaReview(
                case_id=parse_id(input.case_id, "Case", field="caseId"),
                verdict=verdict,
                open_corrective_case=input.open_corrective_case,
            )
            result = await submit_qa_review(uow, actor, cmd)
            corrective = result.corrective_case
            return SubmitQaReviewSuccess(
                qa_review=qa_review_of(result.review),
                corrective_case=build(CaseRef, corrective) if corrective else None,
            )

        return await run(info, "submitQaReview", Permission.QA_REVIEW, command, reason=input.notes)
