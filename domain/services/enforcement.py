"""Applying and reversing the effects of a decision: actions, strike, ladder, derived subject state.

These helpers run *after* validation; they are shared by case decisions, ad reviews and appeals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.actor import Actor
from domain.case import Case
from domain.config import DomainConfig
from domain.decision import Decision, Verdict
from domain.enforcement import EnforcementAction, RequestedAction, action_for_request
from domain.ladder import ladder_for, reevaluate
from domain.policy import Policy, PolicyVersion
from domain.ports import UnitOfWork
from domain.services.statement import record_statement
from domain.services.subject import refresh_subjects
from domain.strike import Strike
from domain.subject import Subject, SubjectKind


@dataclass(frozen=True)
class Enforced:
    actions: tuple[EnforcementAction, ...] = ()
    strikes: tuple[Strike, ...] = ()


@dataclass(frozen=True)
class Reversal:
    reversed_actions: tuple[EnforcementAction, ...]
    reversed_strikes: tuple[Strike, ...]
    added_actions: tuple[EnforcementAction, ...]


async def record_decision(
    uow: UnitOfWork,
    actor: Actor,
    *,
    case: Case,
    subject: Subject,
    decision: Decision,
    cited: tuple[Policy, PolicyVersion] | None,
    requested: Sequence[RequestedAction],
    config: DomainConfig,
) -> Enforced:
    """Store the decision, mark the case DECIDED and, if VIOLATING, enforce it."""
    uow.decisions.add(decision)
    case.mark_decided(decision.id, actor, decision.decided_at)
    if decision.verdict is Verdict.NOT_VIOLATING or cited is None:
        await refresh_subjects(uow, [(subject.kind, subject.id)])
        return Enforced()
    enforced = await enforce_violation(uow, subject, decision, cited, requested, config)
    await record_statement(uow, case=case, subject=subject, decision=decision, cited=cited, actions=enforced.actions)
    return enforced


async def enforce_violation(
    uow: UnitOfWork,
    subject: Subject,
    decision: Decision,
    cited: tuple[Policy, PolicyVersion],
    requested: Sequence[RequestedAction],
    config: DomainConfig,
) -> Enforced:
    """Requested actions + a strike on the owner account + the ladder step it triggers; then re-derive state."""
    policy, version = cited
    now = decision.decided_at
    actions = [action_for_request(r, subject=subject, decision_id=decision.id, now=now) for r in requested]
    strike = Strike.issue(
        region=subject.region,
        account_id=subject.owner_account_id,
        decision_id=decision.id,
        surface=policy.surface,
        version=version,
        now=now,
    )
    ladder = ladder_for(config.ladders, policy.surface)
    step = None if ladder is None else ladder.step_for(strike, await uow.strikes.list_for_account(strike.account_id))
    if step is not None:
        actions.append(step.action_for(strike, now))
    uow.strikes.add(strike)
    for action in actions:
        uow.actions.add(action)
    targets = [(a.target_kind, a.target_id) for a in actions]
    await refresh_subjects(uow, [(subject.kind, subject.id), *targets])
    return Enforced(tuple(actions), (strike,))


async def reverse_decision(uow: UnitOfWork, decision: Decision, config: DomainConfig, now: datetime) -> Reversal:
    """Reverse the decision's actions (requested and ladder) and strikes, re-run the ladder, re-derive state."""
    decision.mark_overturned(now)
    reversed_actions = [a for a in await uow.actions.list_for_decision(decision.id) if a.reverse(now)]
    reversed_strikes = [s for s in await uow.strikes.list_for_decision(decision.id) if s.reverse(now)]
    added: list[EnforcementAction] = []
    for strike in reversed_strikes:
        reversed_more, added_more = await _reevaluate_ladder(uow, strike, config, now)
        reversed_actions.extend(reversed_more)
        added.extend(added_more)
    targets = [(a.target_kind, a.target_id) for a in (*reversed_actions, *added)]
    await refresh_subjects(uow, [(decision.subject_kind, decision.subject_id), *targets])
    return Reversal(tuple(reversed_actions), tuple(reversed_strikes), tuple(added))


async def _reevaluate_ladder(
    uow: UnitOfWork, reversed_strike: Strike, config: DomainConfig, now: datetime
) -> tuple[list[EnforcementAction], list[EnforcementAction]]:
    ladder = ladder_for(config.ladders, reversed_strike.surface)
    if ladder is None:
        return [], []
    strikes = await uow.strikes.list_for_account(reversed_strike.account_id)
    actions = await uow.actions.list_for_target(SubjectKind.ACCOUNT, reversed_strike.account_id)
    correction = reevaluate(ladder, strikes, actions, since=reversed_strike.issued_at, now=now)
    reversed_actions = [a for a in correction.reverse if a.reverse(now)]
    for action in correction.add:
        uow.actions.add(action)
    return reversed_actions, list(correction.add)
