"""Queues: defining them, routing new cases into them (by routing, or to a named queue), and working them (claim
next, release)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from domain import seniority
from domain.actor import Actor
from domain.case import Case
from domain.config import DEFAULT_CONFIG, DomainConfig
from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.queue import QUEUE_SURFACE, Queue, QueueSettings, QueueSurface, Routable, route
from domain.region import Region
from domain.services.case import get_case
from domain.sla import SlaTable
from domain.subject import Subject, SubjectKind


async def get_queue(uow: UnitOfWork, queue_id: uuid.UUID, *, field: str = "queueId") -> Queue:
    queue = await uow.queues.get(queue_id)
    if queue is None:
        raise DomainError.not_found(f"queue {queue_id} not found", field)
    return queue


@dataclass(frozen=True)
class DefineQueue:
    region: Region
    name: str
    settings: QueueSettings


async def define_queue(uow: UnitOfWork, actor: Actor, cmd: DefineQueue) -> Queue:
    """Create the region's queue of that name, or reconfigure it. Its escalation queue must be in its region."""
    esc_id = cmd.settings.escalation_queue_id
    if esc_id is not None and (await get_queue(uow, esc_id, field="escalationQueueId")).region is not cmd.region:
        raise DomainError.invalid_input("the escalation queue must be in the queue's region", "escalationQueueId")
    now = uow.clock.now()
    queue = await uow.queues.get_by_name(cmd.region, cmd.name)
    if queue is None:
        queue = Queue.define(region=cmd.region, name=cmd.name, settings=cmd.settings, now=now)
        uow.queues.add(queue)
    else:
        queue.configure(cmd.settings, now)
    if queue.is_default and any(
        q.is_default and q.id != queue.id for q in await uow.queues.list_for(queue.region, queue.surface)
    ):
        raise DomainError.conflict(
            f"{queue.region.value} already has a default {queue.surface.value} queue", "isDefault"
        )
    return queue


async def _language(uow: UnitOfWork, subject: Subject) -> str | None:
    if subject.kind is not SubjectKind.CONTENT:
        return None
    content = await uow.contents.get(subject.id)
    return content.language if content is not None else None


async def open_routed_case(
    uow: UnitOfWork, subject: Subject, policy_code: str | None, now: datetime, config: DomainConfig = DEFAULT_CONFIG
) -> Case:
    """A new case for the subject, in the queue routing picks (unqueued when none fits); not yet added."""
    routable = Routable(
        region=subject.region,
        surface=QUEUE_SURFACE[subject.case_surface],
        policy_code=policy_code,
        language=await _language(uow, subject),
    )
    queue = route(await uow.queues.list_for(routable.region, routable.surface), routable)
    if queue is None:
        return Case.open_for(subject, config.sla, now)
    return Case.open_for(subject, queue.sla, now, queue_id=queue.id)


async def sla_of(uow: UnitOfWork, case: Case, config: DomainConfig = DEFAULT_CONFIG) -> SlaTable:
    """The case's queue's SLA table (``config.sla`` for an unqueued case)."""
    queue = await uow.queues.get(case.queue_id) if case.queue_id is not None else None
    return queue.sla if queue is not None else config.sla


async def route_to_named(uow: UnitOfWork, case: Case, name: str, priority: int | None = None) -> Queue:
    """Move an open case to its region's queue ``name`` (a rule's ``open_case``), keeping at least ``priority``
    from now on; the SLA due time becomes that queue's for the case's priority. NOT_FOUND when the region has no
    such queue, INVALID_INPUT when the queue takes another surface's cases; nothing changes then."""
    queue = await uow.queues.get_by_name(case.region, name)
    if queue is None:
        raise DomainError.not_found(f"{case.region.value} has no queue named {name!r}", "queue")
    if queue.surface is not QUEUE_SURFACE[case.surface]:
        raise DomainError.invalid_input(
            f"queue {name!r} takes {queue.surface.value} cases, not {case.surface.value} ones", "queue"
        )
    case.route_to(queue.id, queue.sla, uow.clock.now(), priority=priority, move=True)
    return queue


@dataclass(frozen=True)
class ClaimNextCase:
    """``roles``: the caller's roles in the queue's region (the API layer knows them)."""

    queue_id: uuid.UUID
    roles: frozenset[str]
    renew_case_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ClaimReads:
    """What ``claim_next_case`` reads, known before it runs: the queue, and either the case to renew or the queue's
    most urgent free case the actor may take (escalated ones only from ``ESCALATED_CASE_MIN`` seniority). A
    prefetching engine loads exactly this (``persistence.fast.claims``)."""

    queue_id: uuid.UUID
    escalated: bool
    renew_case_id: uuid.UUID | None = None

    @classmethod
    def of(cls, actor: Actor, queue_id: uuid.UUID, renew_case_id: uuid.UUID | None = None) -> ClaimReads:
        return cls(queue_id, actor.seniority >= seniority.ESCALATED_CASE_MIN, renew_case_id)


async def claim_next_case(
    uow: UnitOfWork, actor: Actor, cmd: ClaimNextCase, config: DomainConfig = DEFAULT_CONFIG
) -> Case | None:
    """Lease the queue's most urgent free case to the caller; None when the queue has nothing free for them.
    With ``renew_case_id``: renew the caller's lease on that case of the queue instead."""
    queue = await get_queue(uow, cmd.queue_id)
    queue.ensure_workable_by(cmd.roles)
    now = uow.clock.now()
    case: Case | None
    if cmd.renew_case_id is not None:
        case = await get_case(uow, cmd.renew_case_id, field="renewCaseId")
        if case.queue_id != queue.id or case.lease.holder != actor.id:
            raise DomainError.conflict("you hold no lease on this case in this queue", "renewCaseId")
    else:
        escalated = ClaimReads.of(actor, queue.id).escalated
        case = await uow.queues.next_case(queue.id, now=now, escalated=escalated)
    if case is not None:
        case.claim(actor, config.claim_lease, now)
    return case


@dataclass(frozen=True)
class ReleaseCase:
    case_id: uuid.UUID


async def release_case(uow: UnitOfWork, actor: Actor, cmd: ReleaseCase) -> Case:
    """Give a held case back to its queue."""
    case = await get_case(uow, cmd.case_id)
    case.release(actor, uow.clock.now())
    return case


REROUTE_MAX: Final = 1000


@dataclass(frozen=True)
class UnqueuedCase:
    """An open case waiting outside any queue, with the policy code of its first report (what routing reads)."""

    case: Case
    policy_code: str | None


class UnqueuedCases(Protocol):
    """Finds up to ``limit`` open cases of ``region`` waiting outside any queue, most urgent first (the
    persistence layer implements it; the cases it returns are tracked by the unit of work)."""

    async def __call__(self, region: Region, limit: int) -> list[UnqueuedCase]: ...


@dataclass(frozen=True)
class RerouteCases:
    """Route the region's open cases that wait outside any queue (opened before a fitting queue existed)."""

    region: Region
    limit: int = REROUTE_MAX


@dataclass(frozen=True)
class RerouteOutcome:
    routed: list[Case]
    unmatched: int
    """Cases examined that no queue takes yet (they keep waiting unqueued)."""


async def reroute_cases(uow: UnitOfWork, actor: Actor, cmd: RerouteCases, waiting: UnqueuedCases) -> RerouteOutcome:
    """Each unqueued open case of the region goes to the queue routing picks for it now, exactly as if it had
    just been opened (same rules: rank, policies, languages, then the surface's default queue)."""
    if not 1 <= cmd.limit <= REROUTE_MAX:
        raise DomainError.invalid_input(f"limit must be between 1 and {REROUTE_MAX}", "limit")
    now = uow.clock.now()
    routed: list[Case] = []
    unmatched = 0
    candidates: dict[QueueSurface, list[Queue]] = {}
    for item in await waiting(cmd.region, cmd.limit):
        case = item.case
        surface = QUEUE_SURFACE[case.surface]
        if surface not in candidates:
            candidates[surface] = await uow.queues.list_for(cmd.region, surface)
        language = None
        if case.subject_kind is SubjectKind.CONTENT:
            content = await uow.contents.get(case.subject_id)
            language = content.language if content is not None else None
        routable = Routable(region=case.region, surface=surface, policy_code=item.policy_code, language=language)
        queue = route(candidates[surface], routable)
        if queue is None:
            unmatched += 1
            continue
        case.route_to(queue.id, queue.sla, now)
        routed.append(case)
    return RerouteOutcome(routed=routed, unmatched=unmatched)
