"""Out-of-court dispute settlement (EU DSA art. 21): a recipient takes a decision to a certified body. The body
tells the platform; whoever handles it records the dispute (``recordOutOfCourtDispute``) and, when the body has
ended it, its outcome (``closeOutOfCourtDispute``), so the transparency report can count disputes submitted, their
outcomes, the median time to settle them and how many of the bodies' decisions the platform implemented
(art. 24(1)(a)).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain import limits
from domain.dsa.authority_order import SKEW, given_time
from domain.errors import DomainError
from domain.region import Region


class DisputeOutcome(StrEnum):
    PENDING = "PENDING"  # before the body ends it
    FOR_RECIPIENT = "FOR_RECIPIENT"  # the body found in the recipient's favour
    FOR_PROVIDER = "FOR_PROVIDER"  # the body upheld the platform's decision
    SETTLED = "SETTLED"  # ended by agreement
    DISCONTINUED = "DISCONTINUED"  # withdrawn or ended without a decision


@dataclass(kw_only=True)
class OutOfCourtDispute:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    decision_id: uuid.UUID
    body: str  # the certified dispute settlement body
    submitted_at: datetime
    outcome: DisputeOutcome = DisputeOutcome.PENDING
    closed_at: datetime | None = None
    implemented: bool = False  # the platform carried out the body's decision
    recorded_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def record(
        cls, *, region: Region, decision_id: uuid.UUID, body: str, submitted_at: datetime, recorded_by: str,
        decided_at: datetime, now: datetime,
    ) -> OutOfCourtDispute:  # fmt: skip
        limits.text(body, field="body", max_len=limits.NAME_MAX)
        submitted_at = given_time(submitted_at, "submittedAt")
        if submitted_at > now + SKEW:
            raise DomainError.invalid_input("submittedAt is in the future", "submittedAt")
        if submitted_at < decided_at:
            raise DomainError.invalid_input("submittedAt is before the decision", "submittedAt")
        return cls(
            region=region,
            decision_id=decision_id,
            body=body.strip(),
            submitted_at=submitted_at,
            recorded_by=recorded_by,
            created_at=now,
            updated_at=now,
        )

    def close(self, outcome: DisputeOutcome, closed_at: datetime, implemented: bool, now: datetime) -> None:
        if self.outcome is not DisputeOutcome.PENDING:
            raise DomainError.invalid_state(f"the dispute is already closed ({self.outcome.value})")
        if outcome is DisputeOutcome.PENDING:
            raise DomainError.invalid_input("a closed dispute has an outcome other than PENDING", "outcome")
        closed_at = given_time(closed_at, "closedAt")
        if closed_at > now + SKEW:
            raise DomainError.invalid_input("closedAt is in the future", "closedAt")
        if closed_at < self.submitted_at:
            raise DomainError.invalid_input("closedAt is before the dispute was submitted", "closedAt")
        self.outcome, self.closed_at, self.implemented, self.updated_at = outcome, closed_at, implemented, now
