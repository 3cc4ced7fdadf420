"""QA: reviewing a sampled decision, and the corrective case a disagreement can open."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.actor import Actor
from domain.case import Case
from domain.config import DEFAULT_CONFIG, DomainConfig
from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.qa import QaReview, QaVerdict, in_sample
from domain.services.appeal import get_decision
from domain.services.case import get_case
from domain.services.queue import sla_of
from domain.services.subject import load_subject


@dataclass(frozen=True)
class SubmitQaReview:
    case_id: uuid.UUID
    verdict: QaVerdict
    open_corrective_case: bool = False


@dataclass(frozen=True)
class QaResult:
    review: QaReview
    corrective_case: Case | None = None


async def submit_qa_review(
    uow: UnitOfWork, actor: Actor, cmd: SubmitQaReview, config: DomainConfig = DEFAULT_CONFIG
) -> QaResult:
    """Record a QA review of a decided case in its queue's sample (once per case); on request, a disagreement
    with a VIOLATING decision opens an ESCALATED corrective case on the subject in the escalation queue."""
    case = await get_case(uow, cmd.case_id)
    queue = await uow.queues.get(case.queue_id) if case.queue_id is not None else None
    if queue is None or not in_sample(case.id, queue.qa_sample_bp):
        raise DomainError.invalid_state("this case is not in its queue's QA sample", "caseId")
    if case.decision_id is None:
        raise DomainError.invalid_state(f"case is {case.state.value}, not decided", "caseId")
    decision = await get_decision(uow, case.decision_id, field="caseId")
    now = uow.clock.now()
    review = QaReview.record(case=case, decision=decision, reviewer=actor, verdict=cmd.verdict, now=now)
    if await uow.qa_reviews.get_for_case(case.id) is not None:
        raise DomainError.conflict("this case has already been QA-reviewed", "caseId")
    corrective = await _corrective_case(uow, actor, case, review, config) if cmd.open_corrective_case else None
    if corrective is not None:
        review.link_corrective_case(corrective.id, now)
        uow.cases.add(corrective)
    uow.qa_reviews.add(review)
    return QaResult(review, corrective)


async def _corrective_case(
    uow: UnitOfWork, actor: Actor, original: Case, review: QaReview, config: DomainConfig
) -> Case:
    review.ensure_may_open_corrective_case()
    if await uow.cases.find_open_for_subject(original.subject_kind, original.subject_id) is not None:
        raise DomainError.conflict("the subject already has an open case", "openCorrectiveCase")
    subject = await load_subject(uow, original.subject_kind, original.subject_id, field="caseId")
    now = uow.clock.now()
    case = Case.open_for(subject, await sla_of(uow, original, config), now, queue_id=original.queue_id)
    queue = await uow.queues.get(original.queue_id) if original.queue_id is not None else None
    reason = f"QA disagreement with decision {review.decision_id}"
    case.escalate(actor, reason, now, to_queue=queue.escalation_queue_id if queue else None)
    return case
