"""Appeals: filing and deciding."""

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
from domain.services.enforcement import reverse_decision
from domain.strike import Strike


async def get_decision(uow: UnitOfWork, decision_id: uuid.UUID, *, field: str = "decisionId") -> Decision:
    decision = await uow.decisions.get(decision_id)
    if decision is None:
        raise DomainError.not_found(f"decision {decision_id} not found", field)
    return decision


@dataclass(frozen=True)
class FileAppeal:
    decision_id: uuid.UUID
    appellant_account_id: uuid.UUID
    statement: str


async def file_appeal(uow: UnitOfWork, actor: Actor, cmd: FileAppeal, config: DomainConfig = DEFAULT_CONFIG) -> Appeal:
    """Appeal a VIOLATING decision on one's own account, within the window, once per decision."""
    decision = await get_decision(uow, cmd.decision_id)
    appeal = Appeal.file(
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
    appeal = await uow.appeals.get(cmd.appeal_id)
    if appeal is None:
        raise DomainError.not_found(f"appeal {cmd.appeal_id} not found", "appealId")
    decision = await get_decision(uow, appeal.decision_id)
    now = uow.clock.now()
    appeal.decide(actor=actor, decision=decision, outcome=cmd.outcome, rationale=cmd.rationale, now=now)
    if cmd.outcome is not AppealState.OVERTURNED:
        return AppealDecision(appeal, decision)
    reversal = await reverse_decision(uow, decision, config, now)
    return AppealDecision(
        appeal, decision, reversal.reversed_actions, reversal.reversed_strikes, reversal.added_actions
    )
