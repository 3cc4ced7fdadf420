"""Case workflow services: claim, escalate, close."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.actor import Actor
from domain.case import Case
from domain.config import DEFAULT_CONFIG, DomainConfig
from domain.errors import DomainError
from domain.ports import UnitOfWork


async def get_case(uow: UnitOfWork, case_id: uuid.UUID, *, field: str = "caseId") -> Case:
    case = await uow.cases.get(case_id)
    if case is None:
        raise DomainError.not_found(f"case {case_id} not found", field)
    return case


@dataclass(frozen=True)
class ClaimCase:
    case_id: uuid.UUID


async def claim_case(uow: UnitOfWork, actor: Actor, cmd: ClaimCase, config: DomainConfig = DEFAULT_CONFIG) -> Case:
    """Take a lease on the case (OPEN → ASSIGNED); renewing one's own lease is allowed."""
    case = await get_case(uow, cmd.case_id)
    case.claim(actor, config.claim_lease, uow.clock.now())
    return case


@dataclass(frozen=True)
class EscalateCase:
    case_id: uuid.UUID
    reason: str


async def escalate_case(uow: UnitOfWork, actor: Actor, cmd: EscalateCase) -> Case:
    """OPEN/ASSIGNED → ESCALATED with a reason, moving to its queue's escalation queue (if it has one)."""
    case = await get_case(uow, cmd.case_id)
    queue = await uow.queues.get(case.queue_id) if case.queue_id is not None else None
    case.escalate(actor, cmd.reason, uow.clock.now(), to_queue=queue.escalation_queue_id if queue else None)
    return case


@dataclass(frozen=True)
class CloseCase:
    case_id: uuid.UUID


async def close_case(uow: UnitOfWork, actor: Actor, cmd: CloseCase) -> Case:
    """DECIDED → CLOSED."""
    case = await get_case(uow, cmd.case_id)
    case.close(uow.clock.now())
    return case
