"""Case aggregate: the unit of review for one subject.

State machine::

    OPEN ──claim──▶ ASSIGNED ──decide──▶ DECIDED ──close──▶ CLOSED
      │               │  ▲ (re-claim)       ▲
      └──escalate─────┴──┴──▶ ESCALATED ────┘ (decide, seniority ≥ senior_moderator)

A case is *open* (reports fold into it) until it is DECIDED. Any decision (violating or not) moves it to
DECIDED; ``close`` (DECIDED → CLOSED) archives it. Appeals reference the decision, never reopen the case.
A claim is a lease (``domain.lease``): while it is live no one else may claim or decide the case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain import limits, seniority
from domain.actor import Actor
from domain.errors import DomainError
from domain.lease import Lease, Leased
from domain.policy import Severity
from domain.priority import more_severe, more_trusted, priority_score
from domain.region import Region
from domain.report import ReportSource
from domain.sla import SlaTable
from domain.subject import Subject, SubjectKind, Surface


class CaseState(StrEnum):
    OPEN = "OPEN"
    ASSIGNED = "ASSIGNED"
    ESCALATED = "ESCALATED"
    DECIDED = "DECIDED"
    CLOSED = "CLOSED"


OPEN_STATES: frozenset[CaseState] = frozenset({CaseState.OPEN, CaseState.ASSIGNED, CaseState.ESCALATED})


@dataclass(kw_only=True)
class Case(Leased):
    """``subject_account_id`` is the subject's owner account. ``top_severity`` / ``top_source`` are the highest
    severity and most trusted source among its reports (inputs of the priority score, see ``domain.priority``).
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    subject_account_id: uuid.UUID
    surface: Surface
    state: CaseState = CaseState.OPEN
    priority: int = 0
    priority_floor: int | None = None
    """The least priority a rule asked for when it routed the case (``open_case(priority=...)``): re-scoring as
    reports fold in never drops below it."""
    report_count: int = 0
    top_severity: Severity | None = None
    top_source: ReportSource | None = None
    queue_id: uuid.UUID | None = None
    sla_due_at: datetime
    assignee_id: str | None = None
    lease_expires_at: datetime | None = None
    escalation_reason: str | None = None
    decision_id: uuid.UUID | None = None
    decided_at: datetime | None = None
    closed_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def open_for(cls, subject: Subject, sla: SlaTable, now: datetime, *, queue_id: uuid.UUID | None = None) -> Case:
        """A new OPEN case; ``sla`` is its queue's table (``DomainConfig.sla`` when unqueued)."""
        priority = priority_score(severity=None, report_count=0, source=None, reach=subject.reach)
        return cls(
            queue_id=queue_id,
            region=subject.region,
            subject_kind=subject.kind,
            subject_id=subject.id,
            subject_account_id=subject.owner_account_id,
            surface=subject.case_surface,
            priority=priority,
            sla_due_at=sla.due_at(now, priority),
            created_at=now,
            updated_at=now,
        )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def fold_report(
        self, *, source: ReportSource, severity: Severity, reach: int, sla: SlaTable, now: datetime
    ) -> None:
        """Attach one more report: count it and re-score priority (the SLA due time only ever tightens)."""
        if not self.is_open:
            raise DomainError.invalid_state(f"case is {self.state.value}; reports fold only into open cases")
        self.report_count += 1
        self.top_severity = more_severe(self.top_severity, severity)
        self.top_source = more_trusted(self.top_source, source)
        self.priority = max(
            self.priority_floor or 0,
            priority_score(
                severity=self.top_severity, report_count=self.report_count, source=self.top_source, reach=reach
            ),
        )
        self.sla_due_at = min(self.sla_due_at, sla.due_at(self.created_at, self.priority))
        self.updated_at = now

    def _ensure_workable(self, actor: Actor, now: datetime) -> None:
        if not self.is_open:
            raise DomainError.invalid_state(f"case is already {self.state.value}")
        if self.state is CaseState.ESCALATED and actor.seniority < seniority.ESCALATED_CASE_MIN:
            raise DomainError.forbidden("an escalated case needs a senior moderator")
        if self.held_by_other(actor.id, now):
            raise DomainError.conflict("case is held by another moderator")

    def claim(self, actor: Actor, lease: timedelta, now: datetime) -> None:
        """Take (or renew) the lease on this case. ESCALATED cases stay ESCALATED while held."""
        self._ensure_workable(actor, now)
        if self.state is CaseState.OPEN:
            self.state = CaseState.ASSIGNED
        self.lease, self.updated_at = Lease.taken(actor.id, lease, now), now

    def release(self, actor: Actor, now: datetime) -> None:
        """The holder gives the case back to its queue (ASSIGNED → OPEN; an ESCALATED case stays ESCALATED)."""
        if not self.is_open:
            raise DomainError.invalid_state(f"case is already {self.state.value}", "caseId")
        self.ensure_held_by(actor.id, now, what="case", field="caseId")
        if self.state is CaseState.ASSIGNED:
            self.state = CaseState.OPEN
        self.lease, self.updated_at = Lease(), now

    def escalate(self, actor: Actor, reason: str, now: datetime, *, to_queue: uuid.UUID | None = None) -> None:
        """OPEN/ASSIGNED → ESCALATED; releases the lease and moves the case to ``to_queue`` (its queue's
        escalation queue) when given, so the escalation queue can pick it up. The SLA due time stays."""
        limits.text(reason, field="reason", max_len=limits.RATIONALE_MAX)
        if self.state not in (CaseState.OPEN, CaseState.ASSIGNED):
            raise DomainError.invalid_state(f"cannot escalate a {self.state.value} case")
        self._ensure_workable(actor, now)
        self.state, self.escalation_reason = CaseState.ESCALATED, reason
        self.lease, self.updated_at = Lease(), now
        self.queue_id = to_queue or self.queue_id

    def route_to(
        self, queue_id: uuid.UUID, sla: SlaTable, now: datetime, *, priority: int | None = None, move: bool = False
    ) -> None:
        """An open case waiting outside any queue joins ``queue_id`` (rerouting, once queues exist): its SLA due
        time becomes the queue's for its priority, counted from when the case opened. ``move``: a case already in
        a queue moves too (a rule's ``open_case`` naming its queue), unless it is ESCALATED (it stays with the
        seniors). ``priority``: the least priority the case keeps from now on (``priority_floor``)."""
        if not self.is_open:
            raise DomainError.invalid_state(f"case is {self.state.value}; only open cases are routed")
        if self.queue_id is not None and not move:
            raise DomainError.conflict("case already waits in a queue")
        if move and self.state is CaseState.ESCALATED and self.queue_id != queue_id:
            raise DomainError.invalid_state("an escalated case stays in its escalation queue")
        if priority is not None:
            limits.int_range(priority, field="priority", low=0, high=100)
            self.priority_floor = max(self.priority_floor or 0, priority)
            self.priority = max(self.priority, self.priority_floor)
        self.queue_id = queue_id
        self.sla_due_at = sla.due_at(self.created_at, self.priority)
        self.updated_at = now

    def ensure_decidable_by(self, actor: Actor, now: datetime) -> None:
        if self.state is CaseState.DECIDED:  # the loser of two simultaneous deciders lands here
            raise DomainError.conflict("case was already decided by someone else; reload it")
        self._ensure_workable(actor, now)

    def mark_decided(self, decision_id: uuid.UUID, actor: Actor, now: datetime) -> None:
        self.ensure_decidable_by(actor, now)
        self.state, self.decision_id, self.decided_at = CaseState.DECIDED, decision_id, now
        self.lease, self.updated_at = self.lease.ended(), now

    def close(self, now: datetime) -> None:
        """DECIDED → CLOSED."""
        if self.state is not CaseState.DECIDED:
            raise DomainError.invalid_state(f"only a DECIDED case can be closed (case is {self.state.value})")
        self.state, self.closed_at, self.updated_at = CaseState.CLOSED, now, now
