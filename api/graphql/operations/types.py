"""The records of operations: queues, QA reviews, and the moderation metrics."""

from __future__ import annotations

from datetime import datetime

import strawberry

import api.graphql.shared.enums  # noqa: F401  (registers the domain enums)
from api.graphql.context import Info
from api.graphql.ids import to_global_id
from api.graphql.shared.build import build
from api.graphql.shared.refs import CaseRef, PolicyRef
from domain.decision import Verdict
from domain.dsa.statement import SubmissionState
from domain.qa import QaOutcome
from domain.qa import QaReview as QaReviewEntity
from domain.queue import QA_SAMPLE_BP_MAX, QueueSurface
from domain.queue import Queue as QueueEntity
from domain.region import Region
from persistence import operations as ops

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
    async def case(self, info: Info) -> CaseRef | None:
        found = await info.context.loaders.case.load(self.entity.case_id)
        return build(CaseRef, found) if found else None

    @strawberry.field(description="The policy the reviewer holds applicable, if given.")
    async def correct_policy(self, info: Info) -> PolicyRef | None:
        if self.entity.correct_policy_id is None:
            return None
        found = await info.context.loaders.policy.load(self.entity.correct_policy_id)
        return build(PolicyRef, found) if found else None

    @strawberry.field(description="The corrective case this disagreement opened, if any.")
    async def corrective_case(self, info: Info) -> CaseRef | None:
        if self.entity.corrective_case_id is None:
            return None
        found = await info.context.loaders.case.load(self.entity.corrective_case_id)
        return build(CaseRef, found) if found else None


def qa_review_of(entity: QaReviewEntity) -> QaReview:
    return build(QaReview, entity)


@strawberry.type(description="Open cases of one age band (time since the case opened).")
class BacklogBucket:
    age: str
    count: int


@strawberry.type
class DecisionCount:
    verdict: Verdict
    policy_code: str | None
    count: int


@strawberry.type(
    description="One moderator's or vendor's scorecard over the window: human decisions made, QA reviews of "
    "their decisions, and how many agreed."
)
class QaAgreement:
    key: str = strawberry.field(description="The moderator's id (the decider), or the vendor organisation.")
    reviews: int
    agreed: int
    agreement_percent: float
    decisions: int = strawberry.field(description="Human decisions made in the window (region, queue).")
    vendor: str | None = strawberry.field(
        description="Per moderator: their vendor organisation (`in-house` for Vigil's own staff); null on vendor rows."
    )
    moderator_name: str | None = strawberry.field(
        description="Per moderator: the staff member's display name, shown only to callers who may read staff "
        "(`tokens:read` in the region, as `apiTokens` shows token holders); null otherwise, for a partner token "
        "and on vendor rows."
    )


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
    qa_agreement_by_moderator: list[QaAgreement] = strawberry.field(
        description="Scorecards per moderator (each with their vendor; their name for those who may read staff)."
    )
    qa_agreement_by_vendor: list[QaAgreement] = strawberry.field(
        description="Scorecards by vendor organisation (a vendor's moderators together); in-house staff as `in-house`."
    )
    automated_share_percent: float | None
    human_share_percent: float | None
    dsa_statements: list[StatementSubmissionCount] = strawberry.field(
        description="The DSA statements of reasons of the window's decisions, by submission state (every state)."
    )


def _agreements(rows: list[ops.Agreement], *, names: bool = False) -> list[QaAgreement]:
    return [
        QaAgreement(
            key=a.key,
            reviews=a.reviews,
            agreed=a.agreed,
            agreement_percent=round(100 * a.rate, 2),
            decisions=a.decisions,
            vendor=a.vendor,
            moderator_name=a.name if names else None,
        )
        for a in rows
    ]


def metrics_of(m: ops.Metrics, *, staff_names: bool = False) -> ModerationMetrics:
    """``staff_names``: the caller may read staff (their display names on the per-moderator scorecards)."""
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
        qa_agreement_by_moderator=_agreements(m.qa_by_moderator, names=staff_names),
        qa_agreement_by_vendor=_agreements(m.qa_by_vendor),
        automated_share_percent=_percent(m.automated, total),
        human_share_percent=_percent(total - m.automated, total),
        dsa_statements=[StatementSubmissionCount(state=SubmissionState(c.key), count=c.count) for c in m.statements],
    )
