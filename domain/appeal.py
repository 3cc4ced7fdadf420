"""Appeal aggregate: the affected account contests a violating decision."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain import limits
from domain.actor import Actor
from domain.decision import Decision
from domain.errors import DomainError
from domain.region import Region


class AppealState(StrEnum):
    PENDING = "PENDING"
    UPHELD = "UPHELD"
    OVERTURNED = "OVERTURNED"


@dataclass(kw_only=True)
class Appeal:
    """One per decision. ``filed_by`` is the id of the actor that filed it (user-facing service or staff)."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    decision_id: uuid.UUID
    appellant_account_id: uuid.UUID
    statement: str
    filed_by: str
    state: AppealState = AppealState.PENDING
    filed_at: datetime
    decided_at: datetime | None = None
    decider_id: str | None = None
    decider_seniority: int | None = None
    rationale: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def file(
        cls,
        *,
        decision: Decision,
        appellant_account_id: uuid.UUID,
        statement: str,
        filed_by: str,
        window: timedelta,
        now: datetime,
    ) -> Appeal:
        limits.text(statement, field="statement", max_len=limits.TEXT_MAX)
        decision.ensure_appealable(appellant_account_id, window, now)
        return cls(
            region=decision.region,
            decision_id=decision.id,
            appellant_account_id=appellant_account_id,
            statement=statement,
            filed_by=filed_by,
            filed_at=now,
            created_at=now,
            updated_at=now,
        )

    def ensure_decidable_by(self, actor: Actor, decision: Decision) -> None:
        if self.state is not AppealState.PENDING:
            raise DomainError.invalid_state(f"appeal is already {self.state.value}")
        if actor.id == decision.decider_id:
            raise DomainError.forbidden("an appeal must be decided by someone other than the original decider")
        if actor.seniority < decision.decider_seniority:
            raise DomainError.forbidden("an appeal needs a decider at least as senior as the original one")

    def decide(self, *, actor: Actor, decision: Decision, outcome: AppealState, rationale: str, now: datetime) -> None:
        if outcome is AppealState.PENDING:
            raise DomainError.invalid_input("outcome must be UPHELD or OVERTURNED", "outcome")
        limits.text(rationale, field="rationale", max_len=limits.RATIONALE_MAX)
        self.ensure_decidable_by(actor, decision)
        self.state, self.rationale = outcome, rationale
        self.decided_at, self.decider_id, self.decider_seniority = now, actor.id, actor.seniority
        self.updated_at = now
