"""Decision aggregate: the verdict on a case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.actor import Actor, ActorKind
from domain.case import Case
from domain.errors import DomainError
from domain.region import Region
from domain.subject import SubjectKind


class Verdict(StrEnum):
    VIOLATING = "VIOLATING"
    NOT_VIOLATING = "NOT_VIOLATING"


@dataclass(kw_only=True)
class Decision:
    """One per case. Cites the exact policy version in force when decided (``policy_version_id``).

    ``policy_id`` / ``policy_version_id`` are ``None`` only for an ad approval without a cited policy.
    ``subject_*`` are copied from the case so decisions can be listed / appealed without the case.
    ``ladder_version_id``: the strike ladder version the violation climbed (``domain.strike_ladder``), None when
    no stored version applied. ``automated`` is true when the decider is an automation rule. ``overturned_at`` is
    set when an appeal overturns it; nothing else ever changes on a decision.
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    case_id: uuid.UUID
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    subject_account_id: uuid.UUID
    verdict: Verdict
    policy_id: uuid.UUID | None
    policy_version_id: uuid.UUID | None
    rationale: str
    decider_id: str
    decider_kind: ActorKind
    decider_seniority: int
    automated: bool = False
    decided_at: datetime
    overturned_at: datetime | None = None
    ladder_version_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def record(
        cls,
        *,
        case: Case,
        actor: Actor,
        verdict: Verdict,
        policy_id: uuid.UUID | None,
        policy_version_id: uuid.UUID | None,
        rationale: str,
        now: datetime,
    ) -> Decision:
        return cls(
            region=case.region,
            case_id=case.id,
            subject_kind=case.subject_kind,
            subject_id=case.subject_id,
            subject_account_id=case.subject_account_id,
            verdict=verdict,
            policy_id=policy_id,
            policy_version_id=policy_version_id,
            rationale=rationale,
            decider_id=actor.id,
            decider_kind=actor.kind,
            decider_seniority=actor.seniority,
            automated=actor.kind is ActorKind.AUTOMATION,
            decided_at=now,
            created_at=now,
            updated_at=now,
        )

    def ensure_appealable(self, appellant_account_id: uuid.UUID, window: timedelta, now: datetime) -> None:
        if self.verdict is not Verdict.VIOLATING:
            raise DomainError.invalid_state("only a VIOLATING decision can be appealed", "decisionId")
        if appellant_account_id != self.subject_account_id:
            raise DomainError.forbidden("the decision does not affect the appellant's account", "appellantAccountId")
        if now > self.decided_at + window:
            raise DomainError.invalid_state(f"the appeal window of {window.days} days has passed", "decisionId")

    def mark_overturned(self, now: datetime) -> None:
        if self.overturned_at is not None:
            raise DomainError.invalid_state("decision is already overturned")
        self.overturned_at, self.updated_at = now, now
