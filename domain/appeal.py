"""Appeal aggregate: the affected account contests a violating decision.

A new appeal is routed to an APPEALS queue (``domain.services.appeal.file_appeal``); its SLA due time is the
queue's SLA for ``APPEAL_SLA_PRIORITY`` (the queue's "high" band: appeals carry no priority score of their own).
With no APPEALS queue for its region the appeal stays unqueued, without an SLA due time.

Working an appeal mirrors working a case: a claim is a lease (``domain.lease``). While it is live no one but its
holder may claim or decide the appeal; an expired lease is free. Deciding ends the lease.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from domain import limits
from domain.actor import Actor
from domain.decision import Decision
from domain.errors import DomainError
from domain.lease import Lease, Leased
from domain.queue import Queue
from domain.region import Region

APPEAL_SLA_PRIORITY: Final = 50
"""The priority an appeal's SLA is read at from its queue's table: 50 is the "high" band (``Queue.sla``)."""


class AppealState(StrEnum):
    PENDING = "PENDING"
    UPHELD = "UPHELD"
    OVERTURNED = "OVERTURNED"


@dataclass(kw_only=True)
class Appeal(Leased):
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
    queue_id: uuid.UUID | None = None
    sla_due_at: datetime | None = None
    assignee_id: str | None = None
    lease_expires_at: datetime | None = None
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
        queue: Queue | None = None,
    ) -> Appeal:
        """A PENDING appeal, in ``queue`` (routing's pick) with that queue's SLA, or unqueued."""
        limits.text(statement, field="statement", max_len=limits.TEXT_MAX)
        decision.ensure_appealable(appellant_account_id, window, now)
        return cls(
            queue_id=queue.id if queue is not None else None,
            sla_due_at=queue.sla.due_at(now, APPEAL_SLA_PRIORITY) if queue is not None else None,
            region=decision.region,
            decision_id=decision.id,
            appellant_account_id=appellant_account_id,
            statement=statement,
            filed_by=filed_by,
            filed_at=now,
            created_at=now,
            updated_at=now,
        )

    def ensure_decidable_by(self, actor: Actor, decision: Decision, now: datetime) -> None:
        if self.state is not AppealState.PENDING:
            raise DomainError.invalid_state(f"appeal is already {self.state.value}")
        if self.held_by_other(actor.id, now):
            raise DomainError.conflict("appeal is held by someone else", "appealId")
        if actor.id == decision.decider_id:
            raise DomainError.forbidden("an appeal must be decided by someone other than the original decider")
        if actor.seniority < decision.decider_seniority:
            raise DomainError.forbidden("an appeal needs a decider at least as senior as the original one")

    def claim(self, actor: Actor, decision: Decision, lease: timedelta, now: datetime) -> None:
        """Take (or renew) the lease: only someone who may decide the appeal may hold it."""
        self.ensure_decidable_by(actor, decision, now)
        self.lease, self.updated_at = Lease.taken(actor.id, lease, now), now

    def release(self, actor: Actor, now: datetime) -> None:
        """The holder gives the appeal back to its queue."""
        if self.state is not AppealState.PENDING:
            raise DomainError.invalid_state(f"appeal is already {self.state.value}", "appealId")
        self.ensure_held_by(actor.id, now, what="appeal", field="appealId")
        self.lease, self.updated_at = Lease(), now

    def decide(self, *, actor: Actor, decision: Decision, outcome: AppealState, rationale: str, now: datetime) -> None:
        """PENDING → UPHELD | OVERTURNED; ends any lease (``assignee_id`` stays as who last held it)."""
        if outcome is AppealState.PENDING:
            raise DomainError.invalid_input("outcome must be UPHELD or OVERTURNED", "outcome")
        limits.text(rationale, field="rationale", max_len=limits.RATIONALE_MAX)
        self.ensure_decidable_by(actor, decision, now)
        self.state, self.rationale = outcome, rationale
        self.decided_at, self.decider_id, self.decider_seniority = now, actor.id, actor.seniority
        self.lease, self.updated_at = self.lease.ended(), now
