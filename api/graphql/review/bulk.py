"""Bulk decisions: `bulkDecideCases` submits a job, `bulkJob(id)` follows it, `cancelBulkJob` stops it.

The job is checked up front (1 to 1,000 distinct cases, the decision's own rules, the policy), written with its
items in one transaction, then run in the server process chunk by chunk (``api.services.bulk_jobs``). A job is its
submitter's: another caller's `bulkJob(id)` answers null and `cancelBulkJob` NOT_FOUND.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry

import api.graphql.shared.enums  # noqa: F401  (registers the domain enums)
from api import tracing
from api.graphql.context import Context, Info
from api.graphql.errors import BadRequest
from api.graphql.ids import parse_id, to_global_id
from api.graphql.permissions import requires
from api.graphql.runner import actor_for, audit_context, failed, run
from api.graphql.shared.common import Connection, Error, MutationError, connection, error_from
from api.graphql.shared.inputs import ActionInput
from api.graphql.shared.node import Node
from api.services.bulk_jobs import frozen_regions
from authz.permissions import Permission
from domain.actor import Actor
from domain.bulk import BulkItemState, BulkJobState, LadderLevel
from domain.bulk import BulkJob as BulkJobEntity
from domain.bulk import BulkJobItem as BulkJobItemEntity
from domain.decision import Verdict
from domain.enforcement import RequestedAction
from domain.errors import DomainError, ErrorCode
from domain.services.bulk import Grant, SubmitBulkDecide, cancel_job, submit_bulk_decide
from persistence.fast.bulk import BulkUnitOfWork, get_job, list_items
from persistence.pagination import Page, check_first, decode_cursor, encode_cursor
from persistence.repositories import PostgresUnitOfWork
from persistence.retry import retrying

strawberry.enum(
    LadderLevel,
    description="A strike ladder level: WARN, RESTRICT (features restricted, ads held), SUSPEND, BAN.",
)


@strawberry.type(description="One case of a bulk job: PENDING until its chunk runs, then SUCCEEDED or FAILED alone.")
class BulkJobItem:
    entity: strawberry.Private[BulkJobItemEntity]
    position: int = strawberry.field(description="Its place in the submitted `caseIds` (0-based).")
    state: BulkItemState

    @strawberry.field(description="The case, as given.")
    def case_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("Case", self.entity.case_id))

    @strawberry.field(description="The decision made, once SUCCEEDED.")
    def decision_id(self) -> strawberry.ID | None:
        decision = self.entity.decision_id
        return None if decision is None else strawberry.ID(to_global_id("Decision", decision))

    @strawberry.field(
        description="The strike ladder step its decision reached and did not apply (the job's maxLadderStep), as "
        '"KIND" or "KIND:days"; null when none was skipped.'
    )
    def skipped_ladder_step(self) -> str | None:
        return self.entity.skipped_ladder_step

    @strawberry.field(description="Why it FAILED: the typed error a single `decideCase` would have answered.")
    def error(self) -> Error | None:
        e = self.entity
        if e.error_code is None:
            return None
        return error_from(DomainError(ErrorCode(e.error_code), e.error_message or "", e.error_field))


@strawberry.type(description="A decision applied to many cases, item by item (`bulkDecideCases`).")
class BulkJob(Node):
    entity: strawberry.Private[BulkJobEntity]
    state: BulkJobState
    verdict: Verdict
    rationale: str
    total: int
    succeeded: int
    failed: int
    created_at: datetime
    finished_at: datetime | None

    @strawberry.field(description="Ladder steps above it are skipped (null: every step the ladder reaches applies).")
    def max_ladder_step(self) -> LadderLevel | None:
        return self.entity.max_ladder_step

    @strawberry.field(description="Items not decided yet (cancelled ones included once the job is CANCELLED).")
    def pending(self) -> int:
        return self.total - self.succeeded - self.failed

    @strawberry.field(description="The items in submitted order, with each one's outcome.")
    async def items(self, info: Info, first: int = 100, after: str | None = None) -> Connection[BulkJobItem]:
        try:
            check_first(first)
            position = -1 if after is None else int(decode_cursor(after, datetime_key=False)[0])
        except (ValueError, TypeError):
            raise BadRequest("`after` is not a cursor this API issued", field="after") from None
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from None
        pool = _pool(info.context)
        rows = await list_items(pool, self.entity.id, position, first + 1)
        shown = rows[:first]
        page = Page(
            items=[_item(r) for r in shown],
            cursors=[encode_cursor(r.position, r.id) for r in shown],
            has_next=len(rows) > first,
            has_previous=after is not None,
        )
        return connection(page)


def _item(entity: BulkJobItemEntity) -> BulkJobItem:
    return BulkJobItem(entity=entity, position=entity.position, state=entity.state)


def build_job(entity: BulkJobEntity) -> BulkJob:
    return BulkJob(
        id=strawberry.ID(to_global_id("BulkJob", entity.id)),
        entity=entity,
        state=entity.state,
        verdict=entity.verdict,
        rationale=entity.rationale,
        total=entity.total,
        succeeded=entity.succeeded,
        failed=entity.failed,
        created_at=entity.created_at,
        finished_at=entity.finished_at,
    )


@strawberry.input
class BulkDecideCasesInput:
    case_ids: list[strawberry.ID] = strawberry.field(description="1 to 1,000 distinct cases.")
    verdict: Verdict
    policy_id: strawberry.ID
    rationale: str
    actions: list[ActionInput] = strawberry.field(default_factory=list)
    dsa_keywords: list[str] = strawberry.field(
        default_factory=list,
        description="The DSA keywords each decision's statement of reasons states, among the policy's `dsaKeywords` "
        "(as for decideCase).",
    )
    max_ladder_step: LadderLevel | None = strawberry.field(
        default=None,
        description="Apply the decision but skip strike ladder steps above this level (the strike is still issued; "
        "each item records the step it skipped). Null: every step applies.",
    )


@strawberry.type
class BulkDecideCasesSuccess:
    job: BulkJob


@strawberry.input
class CancelBulkJobInput:
    id: strawberry.ID


@strawberry.type
class CancelBulkJobSuccess:
    job: BulkJob
    cancelled_items: int = strawberry.field(description="Items that will not be decided.")


BulkDecideCasesResult = Annotated[BulkDecideCasesSuccess | MutationError, strawberry.union("BulkDecideCasesResult")]
CancelBulkJobResult = Annotated[CancelBulkJobSuccess | MutationError, strawberry.union("CancelBulkJobResult")]


def submission(context: Context, input: BulkDecideCasesInput) -> tuple[SubmitBulkDecide, Grant]:
    """The job ``input`` asks for and what the caller holds (a DomainError for an ID that does not parse)."""
    case_ids = tuple(parse_id(c, "Case", field="caseIds") for c in input.case_ids)
    cmd = SubmitBulkDecide(
        case_ids=case_ids,
        verdict=input.verdict,
        policy_id=parse_id(input.policy_id, "Policy", field="policyId"),
        rationale=input.rationale,
        actions=tuple(RequestedAction(kind=a.kind, duration_days=a.duration_days) for a in input.actions),
        dsa_keywords=tuple(input.dsa_keywords),
        max_ladder_step=input.max_ladder_step,
    )
    grant = Grant(
        principal_kind=context.principal.kind.value,
        decide_regions=frozen_regions(context.permissions.regions(Permission.CASES_DECIDE)),
        sanction_regions=frozen_regions(context.permissions.regions(Permission.ACCOUNTS_BAN)),
        request_id=context.request_id or None,
        traceparent=tracing.current_traceparent(),
    )
    return cmd, grant


def _pool(context: Context) -> Any:
    if context.pool is None:
        raise RuntimeError("bulk jobs need the app's connection pool")
    return context.pool


def _own_job(context: Context, job: BulkJobEntity | None) -> BulkJobEntity | None:
    """A job is visible to its submitter only."""
    if job is None or job.actor_id != actor_for(context, Permission.CASES_DECIDE).id:
        return None
    return job


async def own_bulk_job(info: Info, job_id: uuid.UUID) -> BulkJob | None:
    """The caller's job (also what `node(id)` answers for a BulkJob ID); None for anyone else's."""
    job = _own_job(info.context, await get_job(_pool(info.context), job_id))
    return None if job is None else build_job(job)


@strawberry.type
class BulkQuery:
    @strawberry.field(
        extensions=requires(Permission.CASES_DECIDE),
        description="One of your bulk jobs: progress and each item's outcome (null for anyone else's).",
    )
    async def bulk_job(self, info: Info, id: strawberry.ID) -> BulkJob | None:
        try:
            job_id = parse_id(id, "BulkJob", field="id")
        except DomainError:
            return None
        return await own_bulk_job(info, job_id)


@strawberry.type
class BulkMutation:
    @strawberry.mutation(
        extensions=requires(Permission.CASES_DECIDE),
        description="Apply one decision to up to 1,000 cases as a job: each case is decided (and audited, and "
        "enforced) as `decideCase` would, in its own region's permissions, and succeeds or fails alone. Follow "
        "it with `bulkJob(id)`; stop it with `cancelBulkJob`.",
    )
    async def bulk_decide_cases(self, info: Info, input: BulkDecideCasesInput) -> BulkDecideCasesResult:
        context = info.context
        runner = context.bulk_runner

        async def command(uow: PostgresUnitOfWork, actor: Actor) -> BulkDecideCasesSuccess:
            cmd, grant = submission(context, input)
            owner = runner.owner if runner is not None else None
            job = await submit_bulk_decide(uow, actor, cmd, grant, lease_owner=owner)
            return BulkDecideCasesSuccess(job=build_job(job))

        result = await run(info, "bulkDecideCases", Permission.CASES_DECIDE, command, reason=input.rationale)
        if isinstance(result, BulkDecideCasesSuccess) and runner is not None:
            runner.start(result.job.entity)  # after the commit: the job and its items are there to read
        return result

    @strawberry.mutation(
        extensions=requires(Permission.CASES_DECIDE),
        description="Stop one of your RUNNING bulk jobs: items already decided stay decided, the others are "
        "CANCELLED. A chunk running at that moment finishes first or not at all.",
    )
    async def cancel_bulk_job(self, info: Info, input: CancelBulkJobInput) -> CancelBulkJobResult:
        context = info.context
        try:
            job_id = parse_id(input.id, "BulkJob", field="id")
            audit = audit_context(context, "cancelBulkJob")

            async def attempt(_: int) -> CancelBulkJobSuccess:
                # The job's row is locked from BEGIN: a running chunk commits first, then this reads what it left.
                async with BulkUnitOfWork(_pool(context), audit, job_id, mode="pending") as uow:
                    job = _own_job(context, uow.data.job)
                    if job is None:
                        raise DomainError.not_found("no such bulk job", "id")
                    cancelled = cancel_job(job, uow.data.items, uow.clock.now())
                return CancelBulkJobSuccess(job=build_job(job), cancelled_items=cancelled)

            return await retrying(attempt, what="cancelBulkJob")
        except DomainError as exc:
            return failed(context, exc)
