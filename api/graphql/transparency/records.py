"""The DSA records the transparency report counts and Vigil cannot see for itself, in GraphQL: orders of Member
State authorities (art. 9, 10), out-of-court disputes (art. 21), the platform's monthly active recipients
(art. 24(2)); and correcting a REJECTED statement of reasons to send it again.

Who may: recording and settling orders and correcting statements needs ``policies:publish`` (policy managers,
admins) in the region; disputes ``appeals:decide`` in the decision's region; monthly active recipients
``accounts:write`` (the platform's service token, admins). Orders are read with ``metrics:read``, disputes with
``appeals:read``, both in their region. Every command is audited with its change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

import api.graphql.transparency.statements  # noqa: F401  (registers the DSA enums)
from api.graphql.context import Info
from api.graphql.ids import parse_id
from api.graphql.permissions import requires
from api.graphql.runner import require_region, run
from api.graphql.shared.build import build, one
from api.graphql.shared.common import Connection, MutationError
from api.graphql.shared.listing import page_of, page_request, source
from api.graphql.shared.node import Node
from api.graphql.shared.refs import CaseRef, DecisionRef
from api.graphql.transparency.statements import StatementOfReasons
from authz.permissions import Permission
from domain.actor import Actor
from domain.dsa.authority_order import AuthorityOrder as OrderEntity
from domain.dsa.authority_order import OrderKind
from domain.dsa.out_of_court_dispute import DisputeOutcome
from domain.dsa.out_of_court_dispute import OutOfCourtDispute as DisputeEntity
from domain.dsa.services import records
from domain.dsa.vocabulary import AccountType, Category, Country, Keyword
from domain.region import Region
from persistence.dsa_records import SqlDsaRecords
from persistence.queries.dsa_records import disputes_page, orders_page
from persistence.repositories import PostgresUnitOfWork

strawberry.enum(OrderKind, name="AuthorityOrderKind", description="Art. 9 (act against illegal content) or 10.")
strawberry.enum(DisputeOutcome, name="DisputeOutcome", description="How an out-of-court dispute ended.")


@strawberry.type(description="An order of a Member State authority (EU DSA art. 9 or 10), as recorded.")
class AuthorityOrder(Node):
    entity: strawberry.Private[OrderEntity]
    region: Region
    kind: OrderKind
    member_state: Country
    authority: str = strawberry.field(description="The issuing authority.")
    reference: str | None = strawberry.field(description="The authority's own reference.")
    received_at: datetime
    informed_at: datetime | None = strawberry.field(description="When the authority was told of its receipt.")
    acted_at: datetime | None = strawberry.field(description="When the order was given effect.")
    recorded_by: str
    created_at: datetime

    @strawberry.field(description="The kind of illegal content concerned.")
    def category(self) -> Category:
        return Category(self.entity.category)

    @strawberry.field(description="The case it concerns, when there is one you may read.")
    async def case(self, info: Info) -> CaseRef | None:
        if self.entity.case_id is None:
            return None
        return one(info, CaseRef, await info.context.loaders.case.load(self.entity.case_id))


@strawberry.type(description="A dispute before a certified out-of-court settlement body (EU DSA art. 21).")
class OutOfCourtDispute(Node):
    entity: strawberry.Private[DisputeEntity]
    region: Region
    body: str = strawberry.field(description="The dispute settlement body.")
    submitted_at: datetime
    outcome: DisputeOutcome
    closed_at: datetime | None
    implemented: bool = strawberry.field(description="The platform carried out the body's decision.")
    recorded_by: str
    created_at: datetime

    @strawberry.field(description="The disputed decision, when you may read it.")
    async def decision(self, info: Info) -> DecisionRef | None:
        return one(info, DecisionRef, await info.context.loaders.decision.load(self.entity.decision_id))


@strawberry.input
class RecordAuthorityOrderInput:
    region: Region
    kind: OrderKind
    member_state: Country
    authority: str
    category: Category = strawberry.field(description="The kind of illegal content concerned.")
    received_at: datetime
    reference: str | None = None
    case_id: strawberry.ID | None = strawberry.field(default=None, description="The case it concerns.")
    informed_at: datetime | None = None
    acted_at: datetime | None = None


@strawberry.input
class SettleAuthorityOrderInput:
    order_id: strawberry.ID
    informed_at: datetime | None = None
    acted_at: datetime | None = None


@strawberry.type
class AuthorityOrderSuccess:
    order: AuthorityOrder


@strawberry.input
class RecordOutOfCourtDisputeInput:
    decision_id: strawberry.ID
    body: str
    submitted_at: datetime


@strawberry.input
class CloseOutOfCourtDisputeInput:
    dispute_id: strawberry.ID
    outcome: DisputeOutcome
    closed_at: datetime
    implemented: bool = False


@strawberry.type
class OutOfCourtDisputeSuccess:
    dispute: OutOfCourtDispute


@strawberry.input(description="One month's average active recipients in one Member State, as the platform counts.")
class RecordActiveRecipientsInput:
    region: Region
    year: int
    month: int
    member_state: Country
    recipients: int


@strawberry.type
class RecordActiveRecipientsSuccess:
    region: Region
    year: int
    month: int
    member_state: Country
    recipients: int


@strawberry.input(description="What to correct in a REJECTED statement (null: leave as is; empty text: remove).")
class StatementCorrectionInput:
    category_specification: list[Keyword] | None = None
    category_specification_other: str | None = None
    content_language: str | None = None
    content_type_other: str | None = None
    decision_facts: str | None = None
    decision_ground_reference_url: str | None = None
    incompatible_content_ground: str | None = None
    incompatible_content_explanation: str | None = None
    account_type: AccountType | None = None


@strawberry.input
class ResendStatementInput:
    decision_id: strawberry.ID
    corrections: StatementCorrectionInput | None = strawberry.field(
        default=None, description="What to correct; null: resend the statement as it is."
    )


@strawberry.type
class ResendStatementSuccess:
    statement: StatementOfReasons


AuthorityOrderResult = Annotated[AuthorityOrderSuccess | MutationError, strawberry.union("AuthorityOrderResult")]
OutOfCourtDisputeResult = Annotated[
    OutOfCourtDisputeSuccess | MutationError, strawberry.union("OutOfCourtDisputeResult")
]
RecordActiveRecipientsResult = Annotated[
    RecordActiveRecipientsSuccess | MutationError, strawberry.union("RecordActiveRecipientsResult")
]
ResendStatementResult = Annotated[ResendStatementSuccess | MutationError, strawberry.union("ResendStatementResult")]


def _corrections(given: StatementCorrectionInput | None) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in vars(given).items() if given is not None else ():
        if value is None:
            continue
        if isinstance(value, list):
            out[name] = sorted({v.value for v in value})
        elif isinstance(value, AccountType):
            out[name] = value.value
        else:
            out[name] = value if value != "" else None
    if "content_language" in out and isinstance(out["content_language"], str):
        out["content_language"] = out["content_language"].upper()
    return out


@strawberry.type
class TransparencyMutation:
    @strawberry.mutation(
        extensions=requires(Permission.POLICIES_PUBLISH),
        description="Record an order of a Member State authority (art. 9 or 10) received by the platform, for the "
        "transparency report. Needs policies:publish in the region (EU).",
    )
    async def record_authority_order(self, info: Info, input: RecordAuthorityOrderInput) -> AuthorityOrderResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> AuthorityOrderSuccess:
            require_region(info.context, Permission.POLICIES_PUBLISH, input.region.value)
            case_id = None if input.case_id is None else parse_id(input.case_id, "Case", field="caseId")
            cmd = records.RecordOrder(
                region=input.region,
                kind=input.kind,
                member_state=input.member_state,
                authority=input.authority,
                category=input.category,
                received_at=input.received_at,
                reference=input.reference,
                case_id=case_id,
                informed_at=input.informed_at,
                acted_at=input.acted_at,
            )
            order = await records.record_authority_order(uow, SqlDsaRecords(uow), actor, cmd)
            return AuthorityOrderSuccess(order=build(AuthorityOrder, order))

        return await run(info, "recordAuthorityOrder", Permission.POLICIES_PUBLISH, command)

    @strawberry.mutation(
        extensions=requires(Permission.POLICIES_PUBLISH),
        description="Fill in when the authority was informed of an order's receipt and when it took effect (each "
        "once).",
    )
    async def settle_authority_order(self, info: Info, input: SettleAuthorityOrderInput) -> AuthorityOrderResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> AuthorityOrderSuccess:
            order_id = parse_id(input.order_id, "AuthorityOrder", field="orderId")
            order = await records.settle_authority_order(
                uow, SqlDsaRecords(uow), order_id, input.informed_at, input.acted_at
            )
            return AuthorityOrderSuccess(order=build(AuthorityOrder, order))

        return await run(info, "settleAuthorityOrder", Permission.POLICIES_PUBLISH, command)

    @strawberry.mutation(
        extensions=requires(Permission.APPEALS_DECIDE),
        description="Record that a decision was taken to a certified out-of-court dispute settlement body (art. 21).",
    )
    async def record_out_of_court_dispute(
        self, info: Info, input: RecordOutOfCourtDisputeInput
    ) -> OutOfCourtDisputeResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> OutOfCourtDisputeSuccess:
            decision_id = parse_id(input.decision_id, "Decision", field="decisionId")
            dispute = await records.record_dispute(
                uow, SqlDsaRecords(uow), actor, decision_id, input.body, input.submitted_at
            )
            return OutOfCourtDisputeSuccess(dispute=build(OutOfCourtDispute, dispute))

        return await run(info, "recordOutOfCourtDispute", Permission.APPEALS_DECIDE, command)

    @strawberry.mutation(
        extensions=requires(Permission.APPEALS_DECIDE),
        description="Record how an out-of-court dispute ended and whether the platform implemented the decision.",
    )
    async def close_out_of_court_dispute(
        self, info: Info, input: CloseOutOfCourtDisputeInput
    ) -> OutOfCourtDisputeResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> OutOfCourtDisputeSuccess:
            dispute_id = parse_id(input.dispute_id, "OutOfCourtDispute", field="disputeId")
            dispute = await records.close_dispute(
                uow, SqlDsaRecords(uow), dispute_id, input.outcome, input.closed_at, input.implemented
            )
            return OutOfCourtDisputeSuccess(dispute=build(OutOfCourtDispute, dispute))

        return await run(info, "closeOutOfCourtDispute", Permission.APPEALS_DECIDE, command)

    @strawberry.mutation(
        extensions=requires(Permission.ACCOUNTS_WRITE),
        description="State one month's active recipients in one Member State (art. 24(2)); stating it again "
        "corrects it. Needs accounts:write in the region (the platform's service token, admins).",
    )
    async def record_active_recipients(
        self, info: Info, input: RecordActiveRecipientsInput
    ) -> RecordActiveRecipientsResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> RecordActiveRecipientsSuccess:
            require_region(info.context, Permission.ACCOUNTS_WRITE, input.region.value)
            figure = await records.record_active_recipients(
                uow,
                SqlDsaRecords(uow),
                actor,
                region=input.region,
                year=input.year,
                month=input.month,
                member_state=input.member_state,
                recipients=input.recipients,
            )
            return RecordActiveRecipientsSuccess(
                region=figure.region,
                year=figure.month.year,
                month=figure.month.month,
                member_state=figure.member_state,
                recipients=figure.recipients,
            )

        return await run(info, "recordActiveRecipients", Permission.ACCOUNTS_WRITE, command)

    @strawberry.mutation(
        extensions=requires(Permission.POLICIES_PUBLISH),
        description="Correct a statement of reasons the DSA Transparency Database REJECTED (how it is described, "
        "never what was decided) and queue it to be sent again under its puid (`vigil dsa submit --resend PUID` "
        "does the same without corrections). The corrected statement must pass the database's rules.",
    )
    async def resend_statement_of_reasons(self, info: Info, input: ResendStatementInput) -> ResendStatementResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> ResendStatementSuccess:
            decision_id = parse_id(input.decision_id, "Decision", field="decisionId")
            statement = await records.resend_statement(uow, decision_id, _corrections(input.corrections))
            return ResendStatementSuccess(statement=StatementOfReasons(entity=statement))

        return await run(info, "resendStatementOfReasons", Permission.POLICIES_PUBLISH, command)


@strawberry.type
class RecordsQuery:
    @strawberry.field(
        extensions=requires(Permission.METRICS_READ),
        description="Recorded orders of Member State authorities in your regions, in the order received.",
    )
    async def authority_orders(
        self, info: Info, region: Region | None = None, first: int = 50, after: str | None = None
    ) -> Connection[AuthorityOrder] | None:
        request = page_request(info, Permission.METRICS_READ, region, first, after)
        return await page_of(info, AuthorityOrder, orders_page(source(info), request))

    @strawberry.field(
        extensions=requires(Permission.APPEALS_READ),
        description="Recorded out-of-court disputes in your regions, in the order submitted.",
    )
    async def out_of_court_disputes(
        self, info: Info, region: Region | None = None, first: int = 50, after: str | None = None
    ) -> Connection[OutOfCourtDispute] | None:
        request = page_request(info, Permission.APPEALS_READ, region, first, after)
        return await page_of(info, OutOfCourtDispute, disputes_page(source(info), request))
