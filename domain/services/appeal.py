"""Appeals: filing (routed to an APPEALS queue), working the queue (claim next, release) and deciding."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.actor import Actor
from domain.appeal import Appeal, AppealState
from domain.config import DEFAULT_CONFIG, DomainConfig
from domain.decision import Decision
from domain.enforcement import EnforcementAction
from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.queue import Queue, QueueSurface, Routable, route
from domain.services.enforcement import reverse_decision
from domain.services.queue import get_queue
from domain.strike import Strike


async def get_decision(uow: UnitOfWork, decision_id: uuid.UUID, *, field: str = "decisionId") -> Decision:
    decision = await uow.decisions.get(decision_id)
    if decision is None:
        raise DomainError.not_found(f"decision {decision_id} not found", field)
    return decision


async def get_appeal(uow: UnitOfWork, appeal_id: uuid.UUID, *, field: str = "appealId") -> Appeal:
    appeal = await uow.appeals.get(appeal_id)
    if appeal is None:
        raise DomainError.not_found(f"appeal {appeal_id} not found", field)
    return appeal


async def appeal_queue(uow: UnitOfWork, decision: Decision) -> Queue | None:
    """Routing (``domain.queue.route``) on the APPEALS surface: the decision's region and policy, and the
    language of the affected account."""
    policy = await uow.policies.get(decision.policy_id) if decision.policy_id is not None else None
    account = await uow.accounts.get(decision.subject_account_id)
    routable = Routable(
        region=decision.region,
        surface=QueueSurface.APPEALS,
        policy_code=policy.code if policy is not None else None,
        language=account.language if account is not None else None,
    )
    return route(await uow.queues.list_for(routable.region, routable.surface), routable)


@dataclass(frozen=True)
class FileAppeal:
    decision_id: uuid.UUID
    appellant_account_id: uuid.UUID
    statement: str


async def file_appeal(uow: UnitOfWork, actor: Actor, cmd: FileAppeal, config: DomainConfig = DEFAULT_CONFIG) -> Appeal:
    """Appeal a VIOLATING decision on one's own account, within the window, once per decision. The appeal
    lands in the APPEALS queue routing picks (unqueued when none fits)."""
    decision = await get_decision(uow, cmd.decision_id)
    appeal = Appeal.file(
        queue=await appeal_queue(uow, decision),
        decision=decision,
        appellant_account_id=cmd.appellant_account_id,
        statement=cmd.statement,
        filed_by=actor.id,
        window=config.appeal_window,
        now=uow.clock.now(),
    )
    if await uow.appeals.get_for_decision(decision.id) is not None:
        raise DomainError.conflict("this decision has already been appealed", "decisionId")
    uow.appeals.add(appeal)
    return appeal


@dataclass(frozen=True)
class DecideAppeal:
    appeal_id: uuid.UUID
    outcome: AppealState
    rationale: str


@dataclass(frozen=True)
class AppealDecision:
    appeal: Appeal
    decision: Decision
    reversed_actions: tuple[EnforcementAction, ...] = ()
    reversed_strikes: tuple[Strike, ...] = ()
    added_actions: tuple[EnforcementAction, ...] = ()


async def decide_appeal(
    uow: UnitOfWork, actor: Actor, cmd: DecideAppeal, config: DomainConfig = DEFAULT_CONFIG
) -> AppealDecision:
    """UPHELD changes only the appeal; OVERTURNED reverses the decision's actions and strike and re-runs
    the ladder. The decider must differ from the original decider and be at least as senior."""
    appeal = await get_appeal(uow, cmd.appeal_id)
    decision = await get_decision(uow, appeal.decision_id)
    now = uow.clock.now()
    appeal.decide(actor=actor, decision=decision, outcome=cmd.outcome, rationale=cmd.rationale, now=now)
    if cmd.outcome is not AppealState.OVERTURNED:
        return AppealDecision(appeal, decision)
    reversal = await reverse_decision(uow, decision, config, now)
    return AppealDecision(
        appeal, decision, reversal.reversed_actions, reversal.reversed_strikes, reversal.added_actions
    )


@dataclass(frozen=True)
class ClaimNextAppeal:
    """``roles``: the caller's roles in the queue's region (the API layer knows them)."""

    queue_id: uuid.UUID
    roles: frozenset[str]
    renew_appeal_id: uuid.UUID | None = None


async def claim_next_appeal(
    uow: UnitOfWork, actor: Actor, cmd: ClaimNextAppeal, config: DomainConfig = DEFAULT_CONFIG
) -> Appeal | None:
    """Lease the APPEALS queue's most overdue free appeal the caller may decide; None when there is none.
    With ``renew_appeal_id``: renew the caller's lease on that appeal of the queue instead."""
    queue = await get_queue(uow, cmd.queue_id)
    if queue.surface is not QueueSurface.APPEALS:
        raise DomainError.invalid_input(f"queue {queue.name} holds cases, not appeals", "queueId")
    queue.ensure_workable_by(cmd.roles)
    now = uow.clock.now()
    appeal: Appeal | None
    if cmd.renew_appeal_id is not None:
        appeal = await get_appeal(uow, cmd.renew_appeal_id, field="renewAppealId")
        if appeal.queue_id != queue.id or appeal.lease.holder != actor.id:
            raise DomainError.conflict("you hold no lease on this appeal in this queue", "renewAppealId")
    else:
        appeal = await uow.appeals.next_in_queue(queue.id, now=now, decider=actor)
    if appeal is not None:
        appeal.claim(actor, await get_decision(uow, appeal.decision_id), config.claim_lease, now)
    return appeal


@dataclass(frozen=True)
class ReleaseAppeal:
    appeal_id: uuid.UUID


async def release_appeal(uow: UnitOfWork, actor: Actor, cmd: ReleaseAppeal) -> Appeal:
    """Give a held appeal back to its queue."""
    appeal = await get_appeal(uow, cmd.appeal_id)
    appeal.release(actor, uow.clock.now())
    return appeal
