"""Moderation operations: queues, claiming the next case, QA reviews, and the ops lead's metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry

import api.graphql.types.dsa  # noqa: F401  (registers the DSA enums)
from api.graphql.context import Context, Info
from api.graphql.errors import BadRequest, Forbidden
from api.graphql.ids import parse_id, to_global_id
from api.graphql.permissions import requires
from api.graphql.queries import visible_regions
from api.graphql.runner import require_region, run, run_prefetched
from api.graphql.types.common import Connection, MutationError, connection, error_from
from api.graphql.types.nodes import Case, Policy, build, many
from authz.actors import roles_in as authz_roles_in
from authz.permissions import Permission
from authz.roles import validate_role
from domain import seniority
from domain.actor import Actor
from domain.decision import Verdict
from domain.errors import DomainError
from domain.qa import QaOutcome, QaVerdict
from domain.qa import QaReview as QaReviewEntity
from domain.queue import QA_SAMPLE_BP_MAX, QueueSettings, QueueSurface
from domain.queue import Queue as QueueEntity
from domain.region import Region
from domain.services.qa import SubmitQaReview, submit_qa_review
from domain.services.queue import (
    REROUTE_MAX,
    ClaimNextCase,
    DefineQueue,
    ReleaseCase,
    RerouteCases,
    claim_next_case,
    define_queue,
    get_queue,
    release_case,
    reroute_cases,
)
from domain.statement import SubmissionState
from persistence import operations as ops
from persistence import reads
from persistence.claims import ClaimUnitOfWork
from persistence.fastsql import Pool
from persistence.pagination import Page
from persistence.repositories import QUEUES, PostgresUnitOfWork
from persistence.uow import AuditContext
from persistence.waiting import unqueued_cases

strawberry.enum(QueueSurface, description="What a queue's cases are about; APPEALS queues take appeals.")
strawberry.enum(QaOutcome, description="Whether the QA reviewer agrees with the decision.")


@strawberry.type(description="SLA hours per priority band: urgent ≥ 80, high ≥ 50, medium ≥ 20, low below.")
class SlaHours:
    urgent: int
    high: int
    medium: int
    low: int


@strawberry.type(
    description="A named stream of cases (region, surface, policies, languages) with SLA hours per priority, "
    "the roles that may work it, its place in routing, its escalation queue and its QA sample rate."
)
class Queue:
    id: strawberry.ID
    entity: strawberry.Private[QueueEntity]
    region: Region
    name: str
    surface: QueueSurface
    policies: list[str] = strawberry.field(description="Policy codes routed here; empty: any.")
    languages: list[str] = strawberry.field(description="Content languages routed here; empty: any.")
    roles: list[str] = strawberry.field(description="Roles that may claim its cases.")
    routing_rank: int | None = strawberry.field(description="Order among routing rules (lowest first); null: none.")
    is_default: bool = strawberry.field(description="Takes the region's unmatched cases of its surface.")
    created_at: datetime
    updated_at: datetime
    version: int
    qa_backlog: int = strawberry.field(description="Decided cases in its QA sample still awaiting review.")

    @strawberry.field
    def sla_hours(self) -> SlaHours:
        q = self.entity
        return SlaHours(
            urgent=q.sla_urgent_hours, high=q.sla_high_hours, medium=q.sla_medium_hours, low=q.sla_low_hours
        )

    @strawberry.field(description="Share of decided cases sampled for QA review (0 to 1).")
    def qa_sample_rate(self) -> float:
        return self.entity.qa_sample_bp / QA_SAMPLE_BP_MAX

    @strawberry.field(description="The ID of the queue `escalateCase` moves its cases to.")
    def escalation_queue_id(self) -> strawberry.ID | None:
        esc = self.entity.escalation_queue_id
        return None if esc is None else strawberry.ID(to_global_id("Queue", esc))


def queue_of(entity: QueueEntity, qa_backlog: int) -> Queue:
    return Queue(
        id=strawberry.ID(to_global_id("Queue", entity.id)),
        entity=entity,
        region=entity.region,
        name=entity.name,
        surface=entity.surface,
        policies=list(entity.policies),
        languages=list(entity.languages),
        roles=list(entity.roles),
        routing_rank=entity.routing_rank,
        is_default=entity.is_default,
        created_at=entity.created_at,
        updated_at=entity.updated_at,
        version=entity.version,
        qa_backlog=qa_backlog,
    )


@strawberry.type(description="A QA reviewer's second look at a sampled decision.")
class QaReview:
    id: strawberry.ID
    entity: strawberry.Private[QaReviewEntity]
    region: Region
    outcome: QaOutcome
    moderator_id: str = strawberry.field(description="Who made the reviewed decision.")
    reviewer_id: str
    original_verdict: Verdict
    correct_verdict: Verdict
    notes: str | None
    reviewed_at: datetime

    @strawberry.field
    async def case(self, info: Info) -> Case | None:
        found = await info.context.loaders.case.load(self.entity.case_id)
        return build(Case, found) if found else None

    @strawberry.field(description="The policy the reviewer holds applicable, if given.")
    async def correct_policy(self, info: Info) -> Policy | None:
        if self.entity.correct_policy_id is None:
            return None
        found = await info.context.loaders.policy.load(self.entity.correct_policy_id)
        return build(Policy, found) if found else None

    @strawberry.field(description="The corrective case this disagreement opened, if any.")
    async def corrective_case(self, info: Info) -> Case | None:
        if self.entity.corrective_case_id is None:
            return None
        found = await info.context.loaders.case.load(self.entity.corrective_case_id)
        return build(Case, found) if found else None


def qa_review_of(entity: QaReviewEntity) -> QaReview:
    return build(QaReview, entity)


# -- metrics ------------------------------------------------------------------------------------------------
@strawberry.type(description="Open cases of one age band (time since the case opened).")
class BacklogBucket:
    age: str
    count: int


@strawberry.type
class DecisionCount:
    verdict: Verdict
    policy_code: str | None
    count: int


@strawberry.type(description="QA reviews of one moderator's or vendor's decisions, and how many agreed.")
class QaAgreement:
    key: str
    reviews: int
    agreed: int
    agreement_percent: float


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


@strawberry.type(description="How many statements of reasons are in one submission state.")
class StatementSubmissionCount:
    state: SubmissionState
    count: int


@strawberry.type(description="Operational figures for one region (optionally one queue) over [from, to).")
class ModerationMetrics:
    inflow: int = strawberry.field(description="Cases opened in the window.")
    backlog: list[BacklogBucket] = strawberry.field(description="Open cases now, by age.")
    decided: int = strawberry.field(description="Cases decided in the window.")
    sla_adherence_percent: float | None = strawberry.field(description="Of those, % decided by their SLA due time.")
    time_to_decision_p50_seconds: float | None
    time_to_decision_p90_seconds: float | None
    decisions: list[DecisionCount] = strawberry.field(description="Decisions in the window by verdict and policy.")
    appeal_rate_percent: float | None = strawberry.field(description="Appeals per 100 VIOLATING decisions.")
    overturn_rate_percent: float | None = strawberry.field(description="Overturned per 100 decided appeals.")
    qa_agreement_by_moderator: list[QaAgreement]
    qa_agreement_by_vendor: list[QaAgreement] = strawberry.field(
        description="By vendor organisation; in-house staff as `in-house`."
    )
    automated_share_percent: float | None
    human_share_percent: float | None
    dsa_statements: list[StatementSubmissionCount] = strawberry.field(
        description="The DSA statements of reasons of the window's decisions, by submission state (every state)."
    )


def _agreements(rows: list[ops.Agreement]) -> list[QaAgreement]:
    return [QaAgreement(key=a.key, reviews=a.reviews, agreed=a.agreed, agreement_percent=round(100 * a.rate, 2))
            for a in rows]  # fmt: skip


def metrics_of(m: ops.Metrics) -> ModerationMetrics:
    total = m.total_decisions
    return ModerationMetrics(
        inflow=m.inflow,
        backlog=[BacklogBucket(age=b.key, count=b.count) for b in m.backlog],
        decided=m.decided,
        sla_adherence_percent=_percent(m.decided_within_sla, m.decided),
        time_to_decision_p50_seconds=m.time_to_decision_p50,
        time_to_decision_p90_seconds=m.time_to_decision_p90,
        decisions=[DecisionCount(verdict=d.verdict, policy_code=d.policy_code, count=d.count) for d in m.decisions],
        appeal_rate_percent=_percent(m.appeals, m.violating),
        overturn_rate_percent=_percent(m.overturned, m.appeals_decided),
        qa_agreement_by_moderator=_agreements(m.qa_by_moderator),
        qa_agreement_by_vendor=_agreements(m.qa_by_vendor),
        automated_share_percent=_percent(m.automated, total),
        human_share_percent=_percent(total - m.automated, total),
        dsa_statements=[StatementSubmissionCount(state=SubmissionState(c.key), count=c.count) for c in m.statements],
    )


def check_metrics_window(context: Context, region: Region, start: datetime, end: datetime) -> None:
    """Figures of a region need metrics:read there, over a window that ends after it starts."""
    if not context.permissions.allows(Permission.METRICS_READ, region.value):
        raise Forbidden(f"permission metrics:read is required in region {region.value}")
    if start >= end:
        raise BadRequest("`from` must be before `to`", field="from")


@strawberry.input
class QueueFilter:
    region: Region | None = None
    surface: QueueSurface | None = None


@strawberry.type
class OperationsQuery:
    @strawberry.field(extensions=requires(Permission.QUEUES_READ), description="Queues, oldest first.")
    async def queues(
        self, info: Info, first: int = 50, after: str | None = None, filter: QueueFilter | None = None
    ) -> Connection[Queue] | None:
        f = filter or QueueFilter()
        where = [QUEUES.table.c.surface == f.surface] if f.surface is not None else []
        regions = visible_regions(info.context, Permission.QUEUES_READ, f.region)
        try:
            async with info.context.sessions() as session:
                page = await reads.page(session, QUEUES, where=where, regions=regions, first=first, after=after)
                backlog = await ops.qa_backlog(session, [q.id for q in page.items])
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        nodes = [queue_of(q, backlog[q.id]) for q in page.items]
        return connection(Page(nodes, page.cursors, page.has_next, page.has_previous))

    @strawberry.field(
        extensions=requires(Permission.METRICS_READ),
        description="Inflow, backlog by age, SLA adherence, time to decision, decisions by verdict and policy, "
        "appeal and overturn rates, QA agreement per moderator and vendor, automated vs human share; for "
        "one region (and optionally one queue) over [from, to). Each figure is one SQL aggregate.",
    )
    async def moderation_metrics(
        self,
        info: Info,
        region: Region,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        queue: strawberry.ID | None = None,
    ) -> ModerationMetrics | None:
        context = info.context
        check_metrics_window(context, region, from_, to)
        try:
            queue_id = parse_id(queue, "Queue", field="queue") if queue is not None else None
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        window = ops.Window(region=region.value, start=from_, end=to, queue_id=queue_id)
        async with context.sessions() as session:
            return metrics_of(await ops.moderation_metrics(session, window, datetime.now(UTC)))


# -- mutations ----------------------------------------------------------------------------------------------
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
    case: Case | None = strawberry.field(description="The leased case; null when nothing is free for you.")


@strawberry.input
class ReleaseCaseInput:
    case_id: strawberry.ID


@strawberry.type
class ReleaseCaseSuccess:
    case: Case


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
    corrective_case: Case | None


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
    cases: list[Case] = strawberry.field(description="The routed cases you may see, with their new queue and SLA.")


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


def roles_in(context: Context, region: Region, permission: Permission = Permission.CASES_CLAIM) -> frozenset[str]:
    """The caller's roles for a queue of ``region`` (the rule: ``authz.actors.roles_in``)."""
    return authz_roles_in(context.principal, context.permissions, region, permission)


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
                cases=many(info, Case, outcome.routed),
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
            escalated = actor.seniority >= seniority.ESCALATED_CASE_MIN
            return ClaimUnitOfWork(pool, audit, queue_id, escalated=escalated, renew_case_id=renew, regions=regions)

        async def command(uow: ClaimUnitOfWork, actor: Actor) -> ClaimNextCaseSuccess:
            queue = await get_queue(uow, queue_id)  # type: ignore[arg-type]
            cmd = ClaimNextCase(queue_id=queue.id, roles=roles_in(info.context, queue.region), renew_case_id=renew)
            case = await claim_next_case(uow, actor, cmd)  # type: ignore[arg-type]
            return ClaimNextCaseSuccess(case=build(Case, case) if case else None)

        return await run_prefetched(info, "claimNextCase", Permission.CASES_CLAIM, open_uow, command)

    @strawberry.mutation(extensions=requires(Permission.CASES_CLAIM), description="Give a held case back.")
    async def release_case(self, info: Info, input: ReleaseCaseInput) -> ReleaseCaseResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> ReleaseCaseSuccess:
            cmd = ReleaseCase(case_id=parse_id(input.case_id, "Case", field="caseId"))
            return ReleaseCaseSuccess(case=build(Case, await release_case(uow, actor, cmd)))

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
                qa_review=qa_review_of(result.review), corrective_case=build(Case, corrective) if corrective else None
            )

        return await run(info, "submitQaReview", Permission.QA_REVIEW, command, reason=input.notes)
