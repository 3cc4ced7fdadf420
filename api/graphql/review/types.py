"""The records of review: Case, Decision (with its DSA statement and notices), EnforcementAction, Strike."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

import strawberry
from strawberry.scalars import JSON

import api.graphql.shared.enums  # noqa: F401  (registers the domain enums)
from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.ids import to_global_id
from api.graphql.lookahead import when_loaded
from api.graphql.permissions import requires
from api.graphql.shared.build import many, now, one
from api.graphql.shared.common import Connection
from api.graphql.shared.history import HISTORY_DESCRIPTION, AuditEvent, history_for
from api.graphql.shared.lazy import lazy_module
from api.graphql.shared.node import Node
from api.graphql.shared.refs import (
    AccountRef,
    AppealRef,
    NoticeRef,
    PolicyRef,
    PolicyVersionRef,
    ReportRef,
    StatementOfReasonsRef,
    StrikeLadderRef,
    SubjectRef,
)
from authz.permissions import Permission
from domain.actor import ActorKind
from domain.case import Case as CaseEntity
from domain.case import CaseState
from domain.decision import Decision as DecisionEntity
from domain.decision import Verdict
from domain.enforcement import ActionKind, ActionSource
from domain.enforcement import EnforcementAction as ActionEntity
from domain.policy import Severity
from domain.region import Region
from domain.strike import Strike as StrikeEntity
from domain.strike import StrikeStatus
from domain.subject import SubjectKind, Surface

if TYPE_CHECKING:
    from api.graphql.intake import types as intake
    from api.graphql.transparency import statements
else:
    intake = lazy_module("api.graphql.intake.types")
    statements = lazy_module("api.graphql.transparency.statements")

MAX_NESTED = 100


@strawberry.type(description="The unit of review: every open report on one subject folds into its one open case.")
class Case(Node):
    entity: strawberry.Private[CaseEntity]
    region: Region
    subject_kind: SubjectKind
    surface: Surface
    state: CaseState
    priority: int
    report_count: int
    sla_due_at: datetime
    assignee_id: str | None
    lease_expires_at: datetime | None
    escalation_reason: str | None
    decided_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @strawberry.field(description="The ID of the queue it waits in; null while no queue takes it (see `rerouteCases`).")
    def queue_id(self) -> strawberry.ID | None:
        queue = self.entity.queue_id
        return None if queue is None else strawberry.ID(to_global_id("Queue", queue))

    @strawberry.field
    def subject(self, info: Info) -> SubjectRef | None:
        return intake.subject_of(info, self.entity.subject_kind, self.entity.subject_id)  # type: ignore[return-value]

    @strawberry.field(description="The account that answers for the subject (owner, advertiser, or itself).")
    def account(self, info: Info) -> AccountRef | None:
        loader = info.context.loaders.account
        return when_loaded(loader, self.entity.subject_account_id, lambda e: one(info, AccountRef, e))  # type: ignore[return-value]

    @strawberry.field(
        description="The reports folded into this case, oldest first: the first `first` (at most 100; "
        "`reportCount` has the total, the root `reports(filter: {caseId})` pages through all of them)."
    )
    def reports(self, info: Info, first: int = 50) -> list[ReportRef]:
        if not 0 <= first <= MAX_NESTED:
            raise BadRequest(f"`first` must be between 0 and {MAX_NESTED}", field="first")
        loader = info.context.loaders.reports_by_case(first)
        return when_loaded(loader, self.entity.id, lambda found: many(info, ReportRef, found))  # type: ignore[return-value]

    @strawberry.field(description="The decision on this case, once decided.")
    def decision(self, info: Info) -> Decision | None:
        if self.entity.decision_id is None:
            return None
        loader = info.context.loaders.decision
        return when_loaded(loader, self.entity.decision_id, lambda e: one(info, Decision, e))  # type: ignore[return-value]

    @strawberry.field(description="Strikes issued by this case's decision.")
    def strikes(self, info: Info) -> list[Strike]:
        if self.entity.decision_id is None:
            return []
        loader = info.context.loaders.strikes_by_decision
        return when_loaded(loader, self.entity.decision_id, lambda found: many(info, Strike, found))  # type: ignore[return-value]

    @strawberry.field(description=HISTORY_DESCRIPTION, extensions=requires(Permission.AUDIT_READ))
    async def history(self, info: Info, first: int = 20, after: str | None = None) -> Connection[AuditEvent] | None:
        return await history_for(info, "Case", self.entity.id, first, after)


@strawberry.type(description="A verdict on a case, citing the exact policy version it applied.")
class Decision(Node):
    entity: strawberry.Private[DecisionEntity]
    region: Region
    subject_kind: SubjectKind
    verdict: Verdict
    rationale: str
    decider_id: str
    decider_kind: ActorKind
    automated: bool
    decided_at: datetime
    overturned_at: datetime | None

    @strawberry.field
    async def case(self, info: Info) -> Case | None:
        found = await info.context.loaders.case.load(self.entity.case_id)
        return one(info, Case, found)

    @strawberry.field
    async def subject(self, info: Info) -> SubjectRef | None:
        return await intake.load_subject(info, self.entity.subject_kind, self.entity.subject_id)

    @strawberry.field
    async def policy(self, info: Info) -> PolicyRef | None:
        if self.entity.policy_id is None:
            return None
        found = await info.context.loaders.policy.load(self.entity.policy_id)
        return one(info, PolicyRef, found)

    @strawberry.field(description="The policy version the decision applied (publishing newer ones never changes it).")
    async def policy_version(self, info: Info) -> PolicyVersionRef | None:
        if self.entity.policy_version_id is None:
            return None
        found = await info.context.loaders.policy_version.load(self.entity.policy_version_id)
        return one(info, PolicyVersionRef, found)

    @strawberry.field(
        description="The strike ladder version the decision's strike climbed (null: not violating, or decided "
        "before ladders were data); null without ladders:read in its region."
    )
    async def ladder_version(self, info: Info) -> StrikeLadderRef | None:
        if self.entity.ladder_version_id is None:
            return None
        found = await info.context.loaders.strike_ladder.load(self.entity.ladder_version_id)
        return one(info, StrikeLadderRef, found)

    @strawberry.field(description="Actions the decision applied, ladder penalties included.")
    def actions(self, info: Info) -> list[EnforcementAction]:
        loader = info.context.loaders.actions_by_decision
        return when_loaded(loader, self.entity.id, lambda found: many(info, EnforcementAction, found))  # type: ignore[return-value]

    @strawberry.field
    async def strikes(self, info: Info) -> list[Strike]:
        return many(info, Strike, await info.context.loaders.strikes_by_decision.load(self.entity.id))

    @strawberry.field(
        description="EU DSA statement of reasons (Transparency Database fields, untyped) for a decision that "
        "restricted something, else null.",
        deprecation_reason="Use dsaStatement (typed, with its submission state).",
    )
    async def statement_of_reasons(self, info: Info) -> JSON | None:
        return cast(JSON, await statements.legacy_fields(info, self.entity))

    @strawberry.field(
        description="The DSA statement of reasons taken when the decision was recorded (every EU decision that "
        "restricted something has one) and its submission to the DSA Transparency Database; else null."
    )
    async def dsa_statement(self, info: Info) -> StatementOfReasonsRef | None:
        return await statements.statement_for(info, self.entity)

    @strawberry.field(
        description="The statement of reasons to send the affected user (EU DSA art. 17): what was restricted, "
        "why, under which rule and ground, how to appeal and by when. In `language` (en, de; default: the "
        "account's language), else English. Null when the decision restricted nothing."
    )
    async def user_notice(self, info: Info, language: str | None = None) -> NoticeRef | None:
        return await statements.user_notice_for(info, self.entity, language)

    @strawberry.field
    async def appeal(self, info: Info) -> AppealRef | None:
        found = await info.context.loaders.appeals_by_decision.load(self.entity.id)
        return one(info, AppealRef, found[0] if found else None)


@strawberry.type(description="An enforcement action on an account, a piece of content or an ad.")
class EnforcementAction(Node):
    entity: strawberry.Private[ActionEntity]
    region: Region
    kind: ActionKind
    target_kind: SubjectKind
    starts_at: datetime
    ends_at: datetime | None
    reversed_at: datetime | None
    source: ActionSource

    @strawberry.field(description="Whether the action is in force now (started, not ended, not reversed).")
    def in_force(self) -> bool:
        return self.entity.in_force(now())

    @strawberry.field
    async def target(self, info: Info) -> SubjectRef | None:
        return await intake.load_subject(info, self.entity.target_kind, self.entity.target_id)

    @strawberry.field
    async def decision(self, info: Info) -> Decision | None:
        found = await info.context.loaders.decision.load(self.entity.decision_id)
        return one(info, Decision, found)

    @strawberry.field(description="For ladder penalties: the strike that caused it.")
    async def strike(self, info: Info) -> Strike | None:
        if self.entity.strike_id is None:
            return None
        found = await info.context.loaders.strike.load(self.entity.strike_id)
        return one(info, Strike, found)


@strawberry.type(description="A mark on an account from a violating decision; the strike ladder counts active ones.")
class Strike(Node):
    entity: strawberry.Private[StrikeEntity]
    region: Region
    surface: Surface
    severity: Severity
    weight: int
    issued_at: datetime
    expires_at: datetime
    reversed_at: datetime | None

    @strawberry.field(description="ACTIVE, EXPIRED (from the clock) or REVERSED (by an overturned appeal).")
    def status(self) -> StrikeStatus:
        return self.entity.status_at(now())

    @strawberry.field
    async def account(self, info: Info) -> AccountRef | None:
        found = await info.context.loaders.account.load(self.entity.account_id)
        return one(info, AccountRef, found)

    @strawberry.field
    async def policy(self, info: Info) -> PolicyRef | None:
        found = await info.context.loaders.policy.load(self.entity.policy_id)
        return one(info, PolicyRef, found)

    @strawberry.field
    async def policy_version(self, info: Info) -> PolicyVersionRef | None:
        found = await info.context.loaders.policy_version.load(self.entity.policy_version_id)
        return one(info, PolicyVersionRef, found)

    @strawberry.field
    async def decision(self, info: Info) -> Decision | None:
        found = await info.context.loaders.decision.load(self.entity.decision_id)
        return one(info, Decision, found)
