"""Recording what the DSA transparency report needs and Vigil cannot see for itself: orders of Member State
authorities (art. 9, 10), out-of-court disputes (art. 21), monthly active recipients (art. 24(2)); and correcting a
statement of reasons the Transparency Database rejected, to send it again.

Each command runs in the caller's unit of work (its repositories see only the caller's regions, so a case or a
decision elsewhere is NOT_FOUND) and is audited with it. The records have their own small store
(``DsaRecords``), kept beside the unit of work's repositories.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from domain.actor import Actor
from domain.decision import Verdict
from domain.dsa.active_recipients import ActiveRecipients, month_start
from domain.dsa.authority_order import AuthorityOrder, OrderKind
from domain.dsa.out_of_court_dispute import DisputeOutcome, OutOfCourtDispute
from domain.dsa.statement import StatementOfReasons
from domain.dsa.vocabulary import Category, Country
from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.region import Region

E = TypeVar("E")


class Store(Protocol[E]):
    def add(self, entity: E) -> None: ...
    async def get(self, id: uuid.UUID) -> E | None: ...


class RecipientStore(Store[ActiveRecipients], Protocol):
    async def find(self, region: Region, month: datetime, member_state: Country) -> ActiveRecipients | None: ...


class DsaRecords(Protocol):
    @property
    def orders(self) -> Store[AuthorityOrder]: ...
    @property
    def disputes(self) -> Store[OutOfCourtDispute]: ...
    @property
    def recipients(self) -> RecipientStore: ...


@dataclass(frozen=True)
class RecordOrder:
    region: Region
    kind: OrderKind
    member_state: Country
    authority: str
    category: Category
    received_at: datetime
    reference: str | None = None
    case_id: uuid.UUID | None = None
    informed_at: datetime | None = None
    acted_at: datetime | None = None


async def record_authority_order(
    uow: UnitOfWork, records: DsaRecords, actor: Actor, cmd: RecordOrder
) -> AuthorityOrder:
    if cmd.case_id is not None:
        case = await uow.cases.get(cmd.case_id)
        if case is None or case.region is not cmd.region:
            raise DomainError.not_found(f"case {cmd.case_id} not found in {cmd.region.value}", "caseId")
    order = AuthorityOrder.record(
        region=cmd.region,
        kind=cmd.kind,
        member_state=cmd.member_state,
        authority=cmd.authority,
        reference=cmd.reference,
        category=cmd.category,
        case_id=cmd.case_id,
        received_at=cmd.received_at,
        informed_at=cmd.informed_at,
        acted_at=cmd.acted_at,
        recorded_by=actor.id,
        now=uow.clock.now(),
    )
    records.orders.add(order)
    return order


async def settle_authority_order(
    uow: UnitOfWork, records: DsaRecords, order_id: uuid.UUID, informed_at: datetime | None, acted_at: datetime | None
) -> AuthorityOrder:
    order = await records.orders.get(order_id)
    if order is None:
        raise DomainError.not_found(f"order {order_id} not found", "orderId")
    if informed_at is None and acted_at is None:
        raise DomainError.invalid_input("give informedAt, actedAt or both", "informedAt")
    order.settle(informed_at=informed_at, acted_at=acted_at, now=uow.clock.now())
    return order


async def record_dispute(
    uow: UnitOfWork, records: DsaRecords, actor: Actor, decision_id: uuid.UUID, body: str, submitted_at: datetime
) -> OutOfCourtDispute:
    decision = await uow.decisions.get(decision_id)
    if decision is None:
        raise DomainError.not_found(f"decision {decision_id} not found", "decisionId")
    if decision.verdict is not Verdict.VIOLATING:
        raise DomainError.invalid_state("only a decision that restricted something is disputed", "decisionId")
    dispute = OutOfCourtDispute.record(
        region=decision.region,
        decision_id=decision.id,
        body=body,
        submitted_at=submitted_at,
        recorded_by=actor.id,
        decided_at=decision.decided_at,
        now=uow.clock.now(),
    )
    records.disputes.add(dispute)
    return dispute


async def close_dispute(
    uow: UnitOfWork,
    records: DsaRecords,
    dispute_id: uuid.UUID,
    outcome: DisputeOutcome,
    closed_at: datetime,
    implemented: bool,
) -> OutOfCourtDispute:
    dispute = await records.disputes.get(dispute_id)
    if dispute is None:
        raise DomainError.not_found(f"dispute {dispute_id} not found", "disputeId")
    dispute.close(outcome, closed_at, implemented, uow.clock.now())
    return dispute


async def record_active_recipients(
    uow: UnitOfWork,
    records: DsaRecords,
    actor: Actor,
    *,
    region: Region,
    year: int,
    month: int,
    member_state: Country,
    recipients: int,
) -> ActiveRecipients:
    """Record (or correct) one month's figure for one Member State."""
    now = uow.clock.now()
    start = month_start(year, month)
    found = await records.recipients.find(region, start, member_state)
    if found is not None:
        found.correct(recipients, actor.id, now)
        return found
    figure = ActiveRecipients.record(
        region=region, month=start, member_state=member_state, recipients=recipients, recorded_by=actor.id, now=now
    )
    records.recipients.add(figure)
    return figure


async def resend_statement(
    uow: UnitOfWork, decision_id: uuid.UUID, corrections: Mapping[str, Any]
) -> StatementOfReasons:
    """Correct a REJECTED statement (``corrections``: database field → new value, None removes it) and queue it to
    be sent again (PENDING). The corrected statement must pass the database's rules, or nothing changes."""
    statement = await uow.statements_of_reasons.get_for_decision(decision_id)
    if statement is None:
        raise DomainError.not_found(f"no statement of reasons for decision {decision_id}", "decisionId")
    statement.resend(corrections, uow.clock.now())
    return statement
