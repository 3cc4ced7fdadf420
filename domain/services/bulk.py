"""Bulk decisions: submitting a job (checked up front, nothing written on bad input) and running one chunk of it.

Each item is decided by ``decide_case``, the service of a single decision, on the chunk's unit of work: the same
checks, the same enforcement, the same audit events. The permissions are the submitter's, checked in each case's
region: the unit of work sees only the regions where the submitter may decide (a case elsewhere is NOT_FOUND, as
for ``decideCase``), and every sanction, requested or reached on the strike ladder, needs ``accounts:ban`` in
the case's region (``BulkJob.actor`` carries it where the submitter had it; the domain's ``ensure_may_apply``
decides, FORBIDDEN otherwise).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.actor import Actor
from domain.bulk import (
    BulkItemState,
    BulkJob,
    BulkJobItem,
    BulkJobState,
    LadderLevel,
    check_case_ids,
    check_decision,
    encode_action,
    within,
)
from domain.config import DEFAULT_CONFIG, DomainConfig
from domain.decision import Verdict
from domain.dsa.statement import choose_keywords
from domain.enforcement import RequestedAction
from domain.errors import DomainError
from domain.ports import BulkSubmission, UnitOfWork
from domain.services.decision import DecideCase, DecideResult, decide_case


@dataclass(frozen=True)
class SubmitBulkDecide:
    case_ids: tuple[uuid.UUID, ...]
    verdict: Verdict
    policy_id: uuid.UUID
    rationale: str
    actions: tuple[RequestedAction, ...] = ()
    dsa_keywords: tuple[str, ...] = ()
    max_ladder_step: LadderLevel | None = None  # ladder steps above it are skipped (None: all apply)


@dataclass(frozen=True)
class Grant:
    """What the submitter may do, where (None: every region), as the authz layer computes it: at submission, and
    again before each chunk for a staff submitter (``run_chunk(standing=...)``)."""

    principal_kind: str
    decide_regions: frozenset[str] | None
    sanction_regions: frozenset[str] | None
    request_id: str | None = None
    seniority: int = 0
    traceparent: str | None = None  # the submitting request's trace context (tracing on), for the chunks' spans


async def new_job(uow: BulkSubmission | UnitOfWork, actor: Actor, cmd: SubmitBulkDecide, grant: Grant) -> BulkJob:
    """The job ``cmd`` describes, checked up front and not stored (``submit_bulk_decide`` stores it, a preview
    only reads it): bad input is a typed error before any case is read."""
    check_case_ids(list(cmd.case_ids))
    check_decision(cmd.verdict, cmd.rationale, cmd.actions)
    policy = await uow.policies.get(cmd.policy_id)  # NOT_FOUND now rather than on every item
    version = await uow.policies.current_version(cmd.policy_id) if policy is not None else None
    if policy is None or version is None:
        raise DomainError.not_found(f"policy {cmd.policy_id} not found", "policyId")
    if cmd.verdict is Verdict.NOT_VIOLATING and cmd.dsa_keywords:
        raise DomainError.invalid_input("a NOT_VIOLATING decision states no DSA keywords", "dsaKeywords")
    keywords = choose_keywords(version, cmd.dsa_keywords)  # INVALID_INPUT now rather than on every item
    now = uow.clock.now()
    return BulkJob(
        actor_id=actor.id,
        actor_kind=actor.kind,
        principal_kind=grant.principal_kind,
        seniority=actor.seniority,
        decide_regions=None if grant.decide_regions is None else ",".join(sorted(grant.decide_regions)),
        sanction_regions=None if grant.sanction_regions is None else ",".join(sorted(grant.sanction_regions)),
        request_id=grant.request_id,
        verdict=cmd.verdict,
        policy_id=cmd.policy_id,
        rationale=cmd.rationale,
        actions=",".join(encode_action(a) for a in cmd.actions),
        dsa_keywords=",".join(keywords),
        max_ladder_step=cmd.max_ladder_step,
        traceparent=grant.traceparent,
        total=len(cmd.case_ids),
        created_at=now,
        updated_at=now,
    )


async def submit_bulk_decide(
    uow: BulkSubmission, actor: Actor, cmd: SubmitBulkDecide, grant: Grant, *, lease_owner: str | None = None
) -> BulkJob:
    """A RUNNING job with one PENDING item per case, in the order given. ``lease_owner``: the process that will
    run it at once (it holds the lease from the start)."""
    job = await new_job(uow, actor, cmd, grant)
    now = job.created_at
    if lease_owner is not None:
        job.take_lease(lease_owner, now)
    uow.bulk_jobs.add(job)
    for position, case_id in enumerate(cmd.case_ids):
        uow.bulk_items.add(
            BulkJobItem(job_id=job.id, position=position, case_id=case_id, created_at=now, updated_at=now)
        )
    return job


class ItemSpoiled(Exception):
    """An item failed after it had changed something: the chunk must be rolled back and that item failed alone."""

    def __init__(self, item_id: uuid.UUID, error: DomainError) -> None:
        super().__init__(error.message)
        self.item_id, self.error = item_id, error


@dataclass(frozen=True)
class ChunkOutcome:
    ran: bool  # False: the job is not RUNNING or this process does not hold its lease (nothing written)
    succeeded: int = 0
    failed: int = 0
    finished: bool = False


def item_command(job: BulkJob, case_id: uuid.UUID) -> DecideCase:
    """The ``decideCase`` an item of ``job`` is: the job's decision on the item's case, its ladder cap included."""
    cap = job.max_ladder_step
    return DecideCase(
        case_id=case_id,
        verdict=job.verdict,
        policy_id=job.policy_id,
        rationale=job.rationale,
        actions=job.requested,
        dsa_keywords=tuple(k for k in job.dsa_keywords.split(",") if k),
        ladder_step_allowed=None if cap is None else (lambda step: within(step.action, cap)),
    )


async def decide_item(uow: UnitOfWork, job: BulkJob, item: BulkJobItem, config: DomainConfig) -> DecideResult:
    """Decide one item's case as ``decideCase`` would for the submitter (its ladder cap aside)."""
    return await decide_case(uow, job.actor, item_command(job, item.case_id), config)


@dataclass(frozen=True)
class ChunkReads:
    """What ``run_chunk`` reads, known before it runs: the job, its next ``limit`` PENDING items in order (one
    more than the chunk decides, to tell whether others wait after it) and everything deciding their cases under
    the job's policy can ask for. A prefetching engine loads exactly this (``persistence.fast.bulk``)."""

    job_id: uuid.UUID
    limit: int
    policy_id: uuid.UUID

    @classmethod
    def of(cls, job: BulkJob, chunk_size: int) -> ChunkReads:
        return cls(job.id, chunk_size + 1, job.policy_id)


async def run_chunk(
    uow: UnitOfWork,
    job: BulkJob,
    items: Sequence[BulkJobItem],
    *,
    lease_owner: str,
    more: bool,
    failed_before: dict[uuid.UUID, DomainError] | None = None,
    untouched: Callable[[], object] | None = None,
    standing: Grant | None = None,
    config: DomainConfig = DEFAULT_CONFIG,
) -> ChunkOutcome:
    """Decide ``items`` (the job's next PENDING ones, in order; ``more``: others wait after them).

    ``failed_before`` holds items that spoiled an earlier try of this chunk: they fail at once with their error.
    ``untouched`` returns a token of the unit of work's pending changes: an item whose error comes after it
    changed something raises ``ItemSpoiled`` (the domain's services refuse before changing anything, so this
    guards against a service that does not). ``standing``: what the submitter holds now; the job keeps only that
    (the unit of work must already see no more than ``standing.decide_regions``)."""
    now = uow.clock.now()
    if job.state is not BulkJobState.RUNNING or not job.holds_lease(lease_owner, now):
        return ChunkOutcome(ran=False)
    if standing is not None:
        job.narrow(standing.decide_regions, standing.sanction_regions, standing.seniority)
    succeeded = failed = 0
    for item in items:
        if item.state is not BulkItemState.PENDING:
            continue
        earlier = (failed_before or {}).get(item.id)
        if earlier is not None:
            item.fail(earlier, now)
            failed += 1
            continue
        before = untouched() if untouched is not None else None
        try:
            decided = await decide_item(uow, job, item, config)
        except DomainError as error:
            if untouched is not None and untouched() != before:
                raise ItemSpoiled(item.id, error) from error
            item.fail(error, now)
            failed += 1
        else:
            skipped = decided.skipped_step
            step = None if skipped is None else RequestedAction(skipped.action, skipped.duration_days)
            item.succeed(decided.decision.id, now, skipped=step)  # audited with the item: the step it skipped
            succeeded += 1
    job.record(succeeded, failed, now, finished=not more)
    return ChunkOutcome(ran=True, succeeded=succeeded, failed=failed, finished=not more)


def cancel_job(job: BulkJob, pending: Sequence[BulkJobItem], now: datetime) -> int:
    """Cancel a RUNNING job and its PENDING items (those a running chunk has not decided); how many."""
    job.cancel(now)
    for item in pending:
        item.cancel(now)
    return len(pending)
