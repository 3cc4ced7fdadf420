"""QA review aggregate: a second look at a sampled decision, and the sampling rule.

Sampling is deterministic, so it needs no job and no stored flag, and tests are stable: a decided case is in
its queue's QA sample when ``sample_bucket(case_id) < queue.qa_sample_bp`` (basis points). The bucket is the
first 4 bytes of SHA-256 over the case id's canonical text, modulo 10,000 (PostgreSQL computes the same value,
see ``persistence.operations.sample_bucket_sql``).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from domain import limits
from domain.actor import Actor
from domain.case import Case, CaseState
from domain.decision import Decision, Verdict
from domain.errors import DomainError
from domain.region import Region

SAMPLE_BUCKETS: Final = 10_000


def sample_bucket(case_id: uuid.UUID) -> int:
    digest = hashlib.sha256(str(case_id).encode()).digest()
    return int.from_bytes(digest[:4], "big") % SAMPLE_BUCKETS


def in_sample(case_id: uuid.UUID, rate_bp: int) -> bool:
    return sample_bucket(case_id) < rate_bp


class QaOutcome(StrEnum):
    AGREE = "AGREE"
    DISAGREE = "DISAGREE"


@dataclass(frozen=True)
class QaVerdict:
    """What the reviewer says: agree, or disagree with the correct verdict (and policy, if another applies)."""

    outcome: QaOutcome
    correct_verdict: Verdict | None = None
    correct_policy_id: uuid.UUID | None = None
    notes: str | None = None


@dataclass(kw_only=True)
class QaReview:
    """One per case. ``moderator_id`` is the original decider. ``correct_verdict`` is the verdict the reviewer
    holds right (the original one on AGREE). ``corrective_case_id`` is the case a disagreement opened, if any."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    case_id: uuid.UUID
    decision_id: uuid.UUID
    queue_id: uuid.UUID | None = None
    moderator_id: str
    reviewer_id: str
    outcome: QaOutcome
    original_verdict: Verdict
    correct_verdict: Verdict
    correct_policy_id: uuid.UUID | None = None
    notes: str | None = None
    corrective_case_id: uuid.UUID | None = None
    reviewed_at: datetime
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def record(cls, *, case: Case, decision: Decision, reviewer: Actor, verdict: QaVerdict, now: datetime) -> QaReview:
        limits.optional_text(verdict.notes, field="notes", max_len=limits.RATIONALE_MAX)
        if case.state not in (CaseState.DECIDED, CaseState.CLOSED):
            raise DomainError.invalid_state(
                f"only decided cases are QA-reviewed (case is {case.state.value})", "caseId"
            )
        if reviewer.id == decision.decider_id:
            raise DomainError.forbidden("a moderator cannot QA-review their own decision", "caseId")
        correct = _correct_verdict(decision, verdict)
        return cls(
            region=case.region,
            case_id=case.id,
            decision_id=decision.id,
            queue_id=case.queue_id,
            moderator_id=decision.decider_id,
            reviewer_id=reviewer.id,
            outcome=verdict.outcome,
            original_verdict=decision.verdict,
            correct_verdict=correct,
            correct_policy_id=verdict.correct_policy_id
            or (decision.policy_id if correct is decision.verdict else None),
            notes=verdict.notes,
            reviewed_at=now,
            created_at=now,
            updated_at=now,
        )

    @property
    def may_open_corrective_case(self) -> bool:
        """A disagreement with a VIOLATING decision (the subject may have been sanctioned wrongly)."""
        return self.outcome is QaOutcome.DISAGREE and self.original_verdict is Verdict.VIOLATING

    def ensure_may_open_corrective_case(self) -> None:
        if not self.may_open_corrective_case:
            raise DomainError.invalid_input(
                "a corrective case follows only a disagreement with a VIOLATING decision", "openCorrectiveCase"
            )

    def link_corrective_case(self, case_id: uuid.UUID, now: datetime) -> None:
        self.ensure_may_open_corrective_case()
        self.corrective_case_id, self.updated_at = case_id, now


def _correct_verdict(decision: Decision, verdict: QaVerdict) -> Verdict:
    if verdict.outcome is QaOutcome.AGREE:
        if verdict.correct_verdict not in (None, decision.verdict):
            raise DomainError.invalid_input("an agreement cannot name another verdict", "correctVerdict")
        return decision.verdict
    if verdict.correct_verdict is None:
        raise DomainError.invalid_input("a disagreement names the correct verdict", "correctVerdict")
    same_policy = verdict.correct_policy_id in (None, decision.policy_id)
    if verdict.correct_verdict is decision.verdict and same_policy:
        raise DomainError.invalid_input(
            "a disagreement needs another verdict or another policy than the decision's", "correctVerdict"
        )
    return verdict.correct_verdict
