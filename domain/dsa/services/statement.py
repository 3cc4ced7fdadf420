"""Taking the statement of reasons when a decision is recorded (a snapshot, stored with the decision)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.case import Case
from domain.decision import Decision
from domain.dsa.statement import StatementOfReasons, SubjectFacts, needs_statement, take_statement
from domain.enforcement import EnforcementAction
from domain.policy import Policy, PolicyVersion
from domain.ports import UnitOfWork
from domain.subject import Subject, SubjectKind


async def subject_facts(uow: UnitOfWork, subject: Subject) -> SubjectFacts:
    """What the statement says about the subject: its kind, when it was posted, its language, its owner's kind."""
    owner = await uow.accounts.get(subject.owner_account_id)
    owner_kind = owner.kind if owner else None
    if subject.kind is SubjectKind.CONTENT:
        content = await uow.contents.get(subject.id)
        if content is not None:
            language = content.language or (owner.language if owner else None)
            return SubjectFacts(subject.kind, content.created_at, content.kind, language, owner_kind)
    elif subject.kind is SubjectKind.AD:
        ad = await uow.ads.get(subject.id)
        if ad is not None:
            return SubjectFacts(subject.kind, ad.created_at, None, owner.language if owner else None, owner_kind)
    if owner is None:
        raise LookupError(f"account {subject.owner_account_id} of a decided subject is missing")
    return SubjectFacts(subject.kind, owner.created_at, None, owner.language, owner_kind)


async def record_statement(
    uow: UnitOfWork,
    *,
    case: Case,
    subject: Subject,
    decision: Decision,
    cited: tuple[Policy, PolicyVersion],
    actions: Sequence[EnforcementAction],
    keywords: Sequence[str] = (),
) -> StatementOfReasons | None:
    """Store the decision's statement of reasons if it needs one (an EU decision that restricts something)."""
    if not needs_statement(decision, actions):
        return None
    facts = await subject_facts(uow, subject)
    statement = take_statement(
        decision, cited=cited, actions=actions, subject=facts, top_source=case.top_source, keywords=keywords
    )
    if statement is not None:
        uow.statements_of_reasons.add(statement)
    return statement
