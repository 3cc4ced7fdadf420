"""Deciding a case."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from domain import limits
from domain.actor import Actor
from domain.ad import AdReviewStatus
from domain.case import Case
from domain.config import DEFAULT_CONFIG, DomainConfig
from domain.decision import Decision, Verdict
from domain.dsa.statement import choose_keywords
from domain.enforcement import EnforcementAction, RequestedAction, validate_requested
from domain.errors import DomainError
from domain.ladder import LadderStep
from domain.policy import Policy, PolicyVersion
from domain.ports import UnitOfWork
from domain.services.case import get_case
from domain.services.enforcement import record_decision
from domain.services.policy import policy_in_force
from domain.services.subject import load_subject
from domain.strike import Strike
from domain.subject import Subject, SubjectKind, ensure_policy_applies


@dataclass(frozen=True)
class DecideCase:
    case_id: uuid.UUID
    verdict: Verdict
    policy_id: uuid.UUID
    rationale: str
    actions: tuple[RequestedAction, ...] = ()
    dsa_keywords: tuple[str, ...] = ()  # the DSA keywords its statement states, among the policy version's
    # A ladder step it refuses is skipped (bulk jobs' maxLadderStep); None: every step the ladder reaches applies.
    ladder_step_allowed: Callable[[LadderStep], bool] | None = None


@dataclass(frozen=True)
class DecideResult:
    decision: Decision
    case: Case
    actions: tuple[EnforcementAction, ...]
    strikes: tuple[Strike, ...]
    skipped_step: LadderStep | None = None


async def ensure_not_ad_review(uow: UnitOfWork, case: Case) -> None:
    """A pending ad's review case is decided through ``review_ad`` (it must also record the review)."""
    ad = await uow.ads.get(case.subject_id) if case.subject_kind is SubjectKind.AD else None
    if ad is not None and ad.review_case_id == case.id and ad.review_status is AdReviewStatus.PENDING_REVIEW:
        raise DomainError.invalid_state("this is a pending ad's review case: use review_ad", "caseId")


def _validate(cmd: DecideCase, case: Case) -> None:
    limits.text(cmd.rationale, field="rationale", max_len=limits.RATIONALE_MAX)
    if cmd.verdict is Verdict.NOT_VIOLATING and cmd.actions:
        raise DomainError.invalid_input("a NOT_VIOLATING decision carries no actions", "actions")
    validate_requested(cmd.actions, case.subject_kind)
    if cmd.verdict is Verdict.NOT_VIOLATING and cmd.dsa_keywords:
        raise DomainError.invalid_input("a NOT_VIOLATING decision states no DSA keywords", "dsaKeywords")


@dataclass(frozen=True)
class Decidable:
    """What ``check_decide`` found: the case may be decided so, citing ``cited``, stating ``keywords``."""

    case: Case
    cited: tuple[Policy, PolicyVersion]
    keywords: tuple[str, ...]
    subject: Subject


async def check_decide(uow: UnitOfWork, actor: Actor, cmd: DecideCase) -> Decidable:
    """Every check of ``decide_case`` before it decides, in its order, writing nothing (bulk previews ask it)."""
    case = await get_case(uow, cmd.case_id)
    case.ensure_decidable_by(actor, uow.clock.now())
    _validate(cmd, case)
    await ensure_not_ad_review(uow, case)
    policy, version = await policy_in_force(uow, cmd.policy_id)
    ensure_policy_applies(case.subject_kind, policy.surface)
    keywords = tuple(choose_keywords(version, cmd.dsa_keywords))
    subject = await load_subject(uow, case.subject_kind, case.subject_id)
    return Decidable(case, (policy, version), keywords, subject)


async def decide_case(
    uow: UnitOfWork, actor: Actor, cmd: DecideCase, config: DomainConfig = DEFAULT_CONFIG
) -> DecideResult:
    """Decide an OPEN/ASSIGNED/ESCALATED case under the cited policy's current version."""
    now = uow.clock.now()
    checked = await check_decide(uow, actor, cmd)
    case, subject, cited = checked.case, checked.subject, checked.cited
    decision = Decision.record(
        case=case,
        actor=actor,
        verdict=cmd.verdict,
        policy_id=cited[0].id,
        policy_version_id=cited[1].id,
        rationale=cmd.rationale,
        now=now,
    )
    enforced = await record_decision(
        uow,
        actor,
        case=case,
        subject=subject,
        decision=decision,
        cited=cited,
        requested=cmd.actions,
        config=config,
        keywords=checked.keywords,
        step_allowed=cmd.ladder_step_allowed,
    )
    return DecideResult(decision, case, enforced.actions, enforced.strikes, enforced.skipped_step)
