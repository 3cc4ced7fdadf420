"""Applying and reversing the effects of a decision: actions, strike, ladder, derived subject state.

These helpers run *after* validation; they are shared by case decisions, ad reviews and appeals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.actor import Actor
from domain.case import Case
from domain.config import DomainConfig
from domain.decision import Decision, Verdict
from domain.dsa.services.statement import record_statement
from domain.enforcement import EnforcementAction, RequestedAction, action_for_request, ensure_may_apply
from domain.ladder import LadderStep, StrikeLadder, reevaluate
from domain.policy import Policy, PolicyVersion
from domain.ports import UnitOfWork
from domain.services.ladder import ladder_in_force
from domain.services.subject import refresh_subjects
from domain.strike import Strike
from domain.subject import Subject, SubjectKind


@dataclass(frozen=True)
class Enforced:
    actions: tuple[EnforcementAction, ...] = ()
    strikes: tuple[Strike, ...] = ()
    skipped_step: LadderStep | None = None  # the ladder step reached but not applied (``step_allowed``)


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
    keywords: Sequence[str] = (),
    step_allowed: Callable[[LadderStep], bool] | None = None,
) -> Enforced:
    """Store the decision, mark the case DECIDED and, if VIOLATING, enforce it.

    Every action the decision applies, requested or reached on the strike ladder, needs the actor's capability
    in the case's region (``ensure_may_apply``), checked before anything is written: a decision that would
    sanction without it is FORBIDDEN as a whole (the case stays open, e.g. to be escalated). A ladder step
    ``step_allowed`` refuses is skipped (not applied, not checked) and answered as ``skipped_step``.
    """
    ensure_may_apply(actor, [r.kind for r in requested], case.region)
    plan = None
    if decision.verdict is Verdict.VIOLATING and cited is not None:
        plan = await _plan(uow, actor, subject, decision.id, cited, config, decision.decided_at, step_allowed)
        decision.ladder_version_id = plan.ladder_version_id
    uow.decisions.add(decision)
    case.mark_decided(decision.id, actor, decision.decided_at)
    if plan is None:
        await refresh_subjects(uow, [(subject.kind, subject.id)])
        return Enforced()
    assert cited is not None  # a plan is made only for a cited policy
    enforced = await _enforce(uow, subject, decision, plan, requested)
    await record_statement(
        uow, case=case, subject=subject, decision=decision, cited=cited, actions=enforced.actions, keywords=keywords
    )
    return Enforced(enforced.actions, enforced.strikes, plan.skipped)


async def ensure_may_enforce(
    uow: UnitOfWork,
    actor: Actor,
    subject: Subject,
    cited: tuple[Policy, PolicyVersion],
    requested: Sequence[RequestedAction],
    config: DomainConfig,
    step_allowed: Callable[[LadderStep], bool] | None = None,
) -> EnforcementPlan:
    """``record_decision``'s authority check for a VIOLATING decision, writing nothing (automation and bulk
    previews ask first); the strike it would issue and the ladder step it would reach or skip."""
    ensure_may_apply(actor, [r.kind for r in requested], subject.region)
    return await _plan(uow, actor, subject, uuid.uuid4(), cited, config, uow.clock.now(), step_allowed)


@dataclass(frozen=True)
class EnforcementPlan:
    strike: Strike
    step: LadderStep | None
    ladder_version_id: uuid.UUID | None
    skipped: LadderStep | None = None


async def _plan(
    uow: UnitOfWork,
    actor: Actor,
    subject: Subject,
    decision_id: uuid.UUID,
    cited: tuple[Policy, PolicyVersion],
    config: DomainConfig,
    now: datetime,
    step_allowed: Callable[[LadderStep], bool] | None = None,
) -> EnforcementPlan:
    """The strike a violation issues and the ladder step it reaches; FORBIDDEN when ``actor`` may not apply it.
    A step ``step_allowed`` refuses is skipped: not applied, so not checked."""
    policy, version = cited
    strike = Strike.issue(
        region=subject.region,
        account_id=subject.owner_account_id,
        decision_id=decision_id,
        surface=policy.surface,
        version=version,
        now=now,
    )
    ladder, ladder_version_id = await ladder_in_force(uow, subject.region, policy.surface, config)
    step = None if ladder is None else ladder.step_for(strike, await uow.strikes.list_for_account(strike.account_id))
    skipped = None
    if step is not None and step_allowed is not None and not step_allowed(step):
        skipped, step = step, None
    if step is not None:
        why = " (the strike ladder's next step for this account; escalate the case)"
        ensure_may_apply(actor, [step.action], subject.region, why=why)
    return EnforcementPlan(strike, step, ladder_version_id, skipped)


async def _enforce(
    uow: UnitOfWork, subject: Subject, decision: Decision, plan: EnforcementPlan, requested: Sequence[RequestedAction]
) -> Enforced:
    """Requested actions + the strike on the owner account + the ladder step it reaches; then re-derive state."""
    now, strike = decision.decided_at, plan.strike
    actions = [action_for_request(r, subject=subject, decision_id=decision.id, now=now) for r in requested]
    if plan.step is not None:
        actions.append(plan.step.action_for(strike, now))
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
        reversed_more, added_more = await _reevaluate_ladder(uow, strike, decision.ladder_version_id, config, now)
        reversed_actions.extend(reversed_more)
        added.extend(added_more)
    targets = [(a.target_kind, a.target_id) for a in (*reversed_actions, *added)]
    await refresh_subjects(uow, [(decision.subject_kind, decision.subject_id), *targets])
    return Reversal(tuple(reversed_actions), tuple(reversed_strikes), tuple(added))


async def _reevaluate_ladder(
    uow: UnitOfWork, reversed_strike: Strike, cited: uuid.UUID | None, config: DomainConfig, now: datetime
) -> tuple[list[EnforcementAction], list[EnforcementAction]]:
    """Replay the ladder the reversed decision cited (else the one in force) over the account's later strikes."""
    version = await uow.strike_ladders.get(cited) if cited is not None else None
    if version is not None:
        ladder: StrikeLadder | None = version.ladder
    else:
        ladder, _ = await ladder_in_force(uow, reversed_strike.region, reversed_strike.surface, config)
    if ladder is None:
        return [], []
    strikes = await uow.strikes.list_for_account(reversed_strike.account_id)
    actions = await uow.actions.list_for_target(SubjectKind.ACCOUNT, reversed_strike.account_id)
    correction = reevaluate(ladder, strikes, actions, since=reversed_strike.issued_at, now=now)
    reversed_actions = [a for a in correction.reverse if a.reverse(now)]
    for action in correction.add:
        uow.actions.add(action)
    return reversed_actions, list(correction.add)
