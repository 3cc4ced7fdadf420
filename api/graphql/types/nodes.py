"""The record types of the graph. Each wraps one domain entity (`entity`, private) and resolves its relations
through the request's DataLoaders, so a page of N records costs one statement per relation, not N."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

import api.graphql.types.enums  # noqa: F401  (registers the domain enums)
from api.graphql.audit import AuditEvent, history_for
from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.ids import to_global_id
from api.graphql.lookahead import when_loaded
from api.graphql.permissions import requires
from api.graphql.types.common import Connection
from api.graphql.types.dsa import (
    Notice,
    StatementOfReasons,
    legacy_fields,
    outcome_notice_for,
    statement_for,
    user_notice_for,
)
from api.graphql.types.node import Node
from api.graphql.visibility import visible
from authz.permissions import Permission
from domain.account import Account as AccountEntity
from domain.account import AccountKind, AccountStatus
from domain.actor import ActorKind
from domain.ad import Ad as AdEntity
from domain.ad import AdReviewStatus
from domain.appeal import Appeal as AppealEntity
from domain.appeal import AppealState
from domain.case import Case as CaseEntity
from domain.case import CaseState
from domain.content import Content as ContentEntity
from domain.content import ContentKind, Visibility
from domain.decision import Decision as DecisionEntity
from domain.decision import Verdict
from domain.enforcement import ActionKind, ActionSource
from domain.enforcement import EnforcementAction as ActionEntity
from domain.policy import Policy as PolicyEntity
from domain.policy import PolicyVersion as PolicyVersionEntity
from domain.policy import Severity
from domain.region import Region
from domain.report import Report as ReportEntity
from domain.report import ReportSource
from domain.status import account_status_at
from domain.strike import Strike as StrikeEntity
from domain.strike import StrikeStatus
from domain.subject import SubjectKind, Surface

if TYPE_CHECKING:
    from api.graphql.ladders import StrikeLadder

N = TypeVar("N")
MAX_NESTED = 100
HISTORY_DESCRIPTION = (
    "This record's audit events, oldest first. Needs audit:read: without it this field alone is null, with a "
    "FORBIDDEN error at its path."
)


def build(cls: type[N], entity: Any) -> N:
    """Fill a node type's plain fields from the same-named entity attributes."""
    name, plain = _plain_fields(cls)  # type: ignore[arg-type]  # classes are hashable
    values = {field: getattr(entity, field) for field in plain}
    return cls(id=to_global_id(name, entity.id), entity=entity, **values)  # type: ignore[call-arg]


@functools.cache
def _plain_fields(cls: type[Any]) -> tuple[str, tuple[str, ...]]:
    """The type's GraphQL name and the fields ``build`` copies (read once per type: a page builds hundreds)."""
    definition = cls.__strawberry_definition__
    plain = tuple(
        f.python_name for f in definition.fields if f.base_resolver is None and f.python_name not in ("id", "entity")
    )
    return str(definition.name), plain


def build_all(cls: type[N], entities: list[Any]) -> list[N]:
    return [build(cls, e) for e in entities]


def _type_name(cls: type[Any]) -> str:
    return str(cls.__strawberry_definition__.name)


def one(info: Info, cls: type[N], entity: Any | None) -> N | None:
    """A related record, or null when it does not exist or the reader may not see it."""
    if entity is None or not visible(info.context, _type_name(cls), entity):
        return None
    return build(cls, entity)


def many(info: Info, cls: type[N], entities: list[Any]) -> list[N]:
    """The related records the reader may see."""
    name = _type_name(cls)
    return [build(cls, e) for e in entities if visible(info.context, name, e)]


def _now() -> datetime:
    return datetime.now(UTC)


@strawberry.type(description="An account on the platform: user, creator, advertiser or publisher.")
class Account(Node):
    entity: strawberry.Private[AccountEntity]
    region: Region
    external_id: str
    kind: AccountKind
    handle: str
    display_name: str
    language: str | None
    status_until: datetime | None
    created_at: datetime
    updated_at: datetime

    def _pii(self, info: Info, value: str | None) -> str | None:
        return value if info.context.permissions.allows(Permission.PII_READ, self.entity.region.value) else None

    @strawberry.field(description="Personal data: null without pii:read in the account's region.")
    def email(self, info: Info) -> str | None:
        return self._pii(info, self.entity.email)

    @strawberry.field(description="Personal data: null without pii:read in the account's region.")
    def phone(self, info: Info) -> str | None:
        return self._pii(info, self.entity.phone)

    @strawberry.field(description="Personal data: null without pii:read in the account's region.")
    def last_ip(self, info: Info) -> str | None:
        return self._pii(info, self.entity.last_ip)

    @strawberry.field(
        description="Status now, from the enforcement actions in force (a lapsed suspension reads ACTIVE)."
    )
    async def status(self, info: Info) -> AccountStatus:
        until = self.entity.status_until
        if until is None or until > _now():
            return self.entity.status
        actions = await info.context.loaders.actions_by_target.load(self.entity.id)
        return account_status_at(actions, _now())[0]

    @strawberry.field(description="Strikes on this account, newest last (expired and reversed included).")
    async def strikes(self, info: Info) -> list[Strike]:
        return many(info, Strike, await info.context.loaders.strikes_by_account.load(self.entity.id))

    @strawberry.field(description=HISTORY_DESCRIPTION, extensions=requires(Permission.AUDIT_READ))
    async def history(self, info: Info, first: int = 20, after: str | None = None) -> Connection[AuditEvent] | None:
        return await history_for(info, "Account", self.entity.id, first, after)


@strawberry.type(description="A piece of content: video, image, post, comment, article or livestream.")
class Content(Node):
    entity: strawberry.Private[ContentEntity]
    region: Region
    external_id: str
    kind: ContentKind
    title: str | None
    text: str | None
    url: str | None
    language: str | None
    reach: int
    visibility: Visibility
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    async def owner(self, info: Info) -> Account | None:
        found = await info.context.loaders.account.load(self.entity.owner_account_id)
        return one(info, Account, found)

    @strawberry.field(description=HISTORY_DESCRIPTION, extensions=requires(Permission.AUDIT_READ))
    async def history(self, info: Info, first: int = 20, after: str | None = None) -> Connection[AuditEvent] | None:
        return await history_for(info, "Content", self.entity.id, first, after)


@strawberry.type(description="An ad creative. Ads are reviewed before they serve.")
class Ad(Node):
    entity: strawberry.Private[AdEntity]
    region: Region
    external_id: str
    headline: str
    body: str
    landing_url: str
    media_refs: list[str]
    target_regions: list[Region]
    review_status: AdReviewStatus
    restrictions: str | None
    reviewed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    def serving(self) -> bool:
        """Whether the ad may serve now (approved, with or without restrictions)."""
        return self.entity.review_status in (AdReviewStatus.APPROVED, AdReviewStatus.APPROVED_RESTRICTED)

    @strawberry.field
    async def advertiser(self, info: Info) -> Account | None:
        found = await info.context.loaders.account.load(self.entity.advertiser_account_id)
        return one(info, Account, found)

    @strawberry.field(description="The ads-review case opened when the ad was submitted.")
    async def review_case(self, info: Info) -> Case | None:
        if self.entity.review_case_id is None:
            return None
        found = await info.context.loaders.case.load(self.entity.review_case_id)
        return one(info, Case, found)

    @strawberry.field(description=HISTORY_DESCRIPTION, extensions=requires(Permission.AUDIT_READ))
    async def history(self, info: Info, first: int = 20, after: str | None = None) -> Connection[AuditEvent] | None:
        return await history_for(info, "Ad", self.entity.id, first, after)


Subject = Annotated[Account | Content | Ad, strawberry.union("Subject", description="What a report is about.")]


def subject_of(
    info: Info, kind: SubjectKind, subject_id: uuid.UUID
) -> Account | Content | Ad | Awaitable[Account | Content | Ad | None] | None:
    """``load_subject``, answered at once when a page already loaded it."""
    loaders = info.context.loaders
    if kind is SubjectKind.ACCOUNT:
        return when_loaded(loaders.account, subject_id, lambda e: one(info, Account, e))
    if kind is SubjectKind.CONTENT:
        return when_loaded(loaders.content, subject_id, lambda e: one(info, Content, e))
    return when_loaded(loaders.ad, subject_id, lambda e: one(info, Ad, e))


async def load_subject(info: Info, kind: SubjectKind, subject_id: uuid.UUID) -> Account | Content | Ad | None:
    loaders = info.context.loaders
    if kind is SubjectKind.ACCOUNT:
        account = await loaders.account.load(subject_id)
        return one(info, Account, account)
    if kind is SubjectKind.CONTENT:
        content = await loaders.content.load(subject_id)
        return one(info, Content, content)
    ad = await loaders.ad.load(subject_id)
    return one(info, Ad, ad)


@strawberry.type(description="A platform rule. Policies are global: `region` is null.")
class Policy(Node):
    entity: strawberry.Private[PolicyEntity]
    region: Region | None
    code: str
    name: str
    surface: Surface
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The number of the version in force.")
    def current_version_number(self) -> int:
        return self.entity.current_version

    @strawberry.field(description="The version in force: what a decision made now cites.")
    async def current_version(self, info: Info) -> PolicyVersion:
        versions = await info.context.loaders.versions_by_policy.load(self.entity.id)
        return build(PolicyVersion, next(v for v in versions if v.number == self.entity.current_version))

    @strawberry.field(description="Every published version, oldest first.")
    async def versions(self, info: Info) -> list[PolicyVersion]:
        return many(info, PolicyVersion, await info.context.loaders.versions_by_policy.load(self.entity.id))


@strawberry.type(description="One published, immutable version of a policy.")
class PolicyVersion(Node):
    entity: strawberry.Private[PolicyVersionEntity]
    region: Region | None
    number: int
    severity: Severity
    strike_weight: int
    strike_ttl_days: int
    dsa_category: str
    description: str
    published_at: datetime
    published_by: str

    @strawberry.field
    async def policy(self, info: Info) -> Policy:
        found = await info.context.loaders.policy.load(self.entity.policy_id)
        assert found is not None
        return build(Policy, found)


@strawberry.type(description="Someone says a subject breaks a policy.")
class Report(Node):
    entity: strawberry.Private[ReportEntity]
    region: Region
    subject_kind: SubjectKind
    source: ReportSource
    reporter_id: str
    reporter_kind: ActorKind
    text: str | None
    idempotency_key: str | None
    created_at: datetime

    @strawberry.field
    async def subject(self, info: Info) -> Subject | None:
        return await load_subject(info, self.entity.subject_kind, self.entity.subject_id)

    @strawberry.field
    def policy(self, info: Info) -> Policy | None:
        loader = info.context.loaders.policy
        return when_loaded(loader, self.entity.policy_id, lambda e: one(info, Policy, e))  # type: ignore[return-value]

    @strawberry.field(
        description="Where the report stands: the state of the case it folded into (visible to "
        "whoever may see the report, e.g. the trusted flagger who filed it)."
    )
    async def status(self, info: Info) -> CaseState:
        found = await info.context.loaders.case.load(self.entity.case_id)
        assert found is not None  # reports always belong to a case (foreign key)
        state: CaseState = found.state
        return state

    @strawberry.field(
        description="What became of the notice, to tell the reporter (EU DSA art. 16(5)): the decision and the "
        "ways to contest it, in `language` (en, de), else English. Null until the case is decided."
    )
    async def outcome_notice(self, info: Info, language: str | None = None) -> Notice | None:
        return await outcome_notice_for(info, self.entity, language)

    @strawberry.field(description="The case this report folded into (needs cases:read).")
    async def case(self, info: Info) -> Case | None:
        found = await info.context.loaders.case.load(self.entity.case_id)
        return one(info, Case, found)


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
    def subject(self, info: Info) -> Subject | None:
        return subject_of(info, self.entity.subject_kind, self.entity.subject_id)  # type: ignore[return-value]

    @strawberry.field(description="The account that answers for the subject (owner, advertiser, or itself).")
    def account(self, info: Info) -> Account | None:
        loader = info.context.loaders.account
        return when_loaded(loader, self.entity.subject_account_id, lambda e: one(info, Account, e))  # type: ignore[return-value]

    @strawberry.field(
        description="The reports folded into this case, oldest first: the first `first` (at most 100; "
        "`reportCount` has the total, the root `reports(filter: {caseId})` pages through all of them)."
    )
    def reports(self, info: Info, first: int = 50) -> list[Report]:
        if not 0 <= first <= MAX_NESTED:
            raise BadRequest(f"`first` must be between 0 and {MAX_NESTED}", field="first")
        loader = info.context.loaders.reports_by_case(first)
        return when_loaded(loader, self.entity.id, lambda found: many(info, Report, found))  # type: ignore[return-value]

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
    async def subject(self, info: Info) -> Subject | None:
        return await load_subject(info, self.entity.subject_kind, self.entity.subject_id)

    @strawberry.field
    async def policy(self, info: Info) -> Policy | None:
        if self.entity.policy_id is None:
            return None
        found = await info.context.loaders.policy.load(self.entity.policy_id)
        return one(info, Policy, found)

    @strawberry.field(description="The policy version the decision applied (publishing newer ones never changes it).")
    async def policy_version(self, info: Info) -> PolicyVersion | None:
        if self.entity.policy_version_id is None:
            return None
        found = await info.context.loaders.policy_version.load(self.entity.policy_version_id)
        return one(info, PolicyVersion, found)

    @strawberry.field(
        description="The strike ladder version the decision's strike climbed (null: not violating, or decided "
        "before ladders were data); null without ladders:read in its region."
    )
    async def ladder_version(
        self, info: Info
    ) -> Annotated[StrikeLadder, strawberry.lazy("api.graphql.ladders")] | None:
        if self.entity.ladder_version_id is None:
            return None
        found = await info.context.loaders.strike_ladder.load(self.entity.ladder_version_id)
        return one(info, _strike_ladder_type(), found)

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
        return cast(JSON, await legacy_fields(info, self.entity))

    @strawberry.field(
        description="The DSA statement of reasons taken when the decision was recorded (every EU decision that "
        "restricted something has one) and its submission to the DSA Transparency Database; else null."
    )
    async def dsa_statement(self, info: Info) -> StatementOfReasons | None:
        return await statement_for(info, self.entity)

    @strawberry.field(
        description="The statement of reasons to send the affected user (EU DSA art. 17): what was restricted, "
        "why, under which rule and ground, how to appeal and by when. In `language` (en, de; default: the "
        "account's language), else English. Null when the decision restricted nothing."
    )
    async def user_notice(self, info: Info, language: str | None = None) -> Notice | None:
        return await user_notice_for(info, self.entity, language)

    @strawberry.field
    async def appeal(self, info: Info) -> Appeal | None:
        found = await info.context.loaders.appeals_by_decision.load(self.entity.id)
        return one(info, Appeal, found[0] if found else None)


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
        return self.entity.in_force(_now())

    @strawberry.field
    async def target(self, info: Info) -> Subject | None:
        return await load_subject(info, self.entity.target_kind, self.entity.target_id)

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
        return self.entity.status_at(_now())

    @strawberry.field
    async def account(self, info: Info) -> Account | None:
        found = await info.context.loaders.account.load(self.entity.account_id)
        return one(info, Account, found)

    @strawberry.field
    async def policy(self, info: Info) -> Policy | None:
        found = await info.context.loaders.policy.load(self.entity.policy_id)
        return one(info, Policy, found)

    @strawberry.field
    async def policy_version(self, info: Info) -> PolicyVersion | None:
        found = await info.context.loaders.policy_version.load(self.entity.policy_version_id)
        return one(info, PolicyVersion, found)

    @strawberry.field
    async def decision(self, info: Info) -> Decision | None:
        found = await info.context.loaders.decision.load(self.entity.decision_id)
        return one(info, Decision, found)


@strawberry.type(description="An account owner contests a decision.")
class Appeal(Node):
    entity: strawberry.Private[AppealEntity]
    region: Region
    statement: str
    filed_by: str
    state: AppealState
    filed_at: datetime
    decided_at: datetime | None
    decider_id: str | None
    rationale: str | None
    sla_due_at: datetime | None = strawberry.field(
        description="Decide by then: its APPEALS queue's SLA (the queue's high band); null when unqueued."
    )
    assignee_id: str | None = strawberry.field(description="Who holds (or last held) the claim on it.")
    lease_expires_at: datetime | None = strawberry.field(
        description="The claim lapses back to the queue then; null or past: free to claim."
    )

    @strawberry.field(description="The ID of the APPEALS queue it waits in; null when no such queue existed.")
    def queue_id(self) -> strawberry.ID | None:
        queue = self.entity.queue_id
        return None if queue is None else strawberry.ID(to_global_id("Queue", queue))

    @strawberry.field
    async def decision(self, info: Info) -> Decision | None:
        found = await info.context.loaders.decision.load(self.entity.decision_id)
        return one(info, Decision, found)

    @strawberry.field
    async def appellant(self, info: Info) -> Account | None:
        found = await info.context.loaders.account.load(self.entity.appellant_account_id)
        return one(info, Account, found)

    @strawberry.field(description=HISTORY_DESCRIPTION, extensions=requires(Permission.AUDIT_READ))
    async def history(self, info: Info, first: int = 20, after: str | None = None) -> Connection[AuditEvent] | None:
        return await history_for(info, "Appeal", self.entity.id, first, after)


NODE_TYPES: dict[str, tuple[type[Any], Permission]] = {
    "Account": (Account, Permission.ACCOUNTS_READ),
    "Content": (Content, Permission.CONTENT_READ),
    "Ad": (Ad, Permission.ADS_READ),
    "Policy": (Policy, Permission.POLICIES_READ),
    "PolicyVersion": (PolicyVersion, Permission.POLICIES_READ),
    "Report": (Report, Permission.REPORTS_READ),
    "Case": (Case, Permission.CASES_READ),
    "Decision": (Decision, Permission.CASES_READ),
    "EnforcementAction": (EnforcementAction, Permission.CASES_READ),
    "Strike": (Strike, Permission.ACCOUNTS_READ),
    "Appeal": (Appeal, Permission.APPEALS_READ),
}
"""GraphQL type name → (type, the permission that reads it in the record's region)."""

__all__ = ["NODE_TYPES", "CaseState", "Node", "Verdict", "build"]


def _strike_ladder_type() -> Any:
    from api.graphql.ladders import StrikeLadder  # the ladders module builds on this one

    return StrikeLadder
