"""The records intake brings in: Account, Content, Ad (the subjects a report can be about) and Report."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

import api.graphql.shared.enums  # noqa: F401  (registers the domain enums)
from api.graphql.context import Info
from api.graphql.lookahead import when_loaded
from api.graphql.permissions import requires
from api.graphql.shared.build import many, now, one
from api.graphql.shared.common import Connection
from api.graphql.shared.history import HISTORY_DESCRIPTION, AuditEvent, history_for
from api.graphql.shared.lazy import lazy_module
from api.graphql.shared.node import Node
from api.graphql.shared.refs import CaseRef, NoticeRef, PolicyRef, StrikeRef
from authz.permissions import Permission
from domain.account import Account as AccountEntity
from domain.account import AccountKind, AccountStatus
from domain.actor import ActorKind
from domain.ad import Ad as AdEntity
from domain.ad import AdReviewStatus
from domain.case import CaseState
from domain.content import Content as ContentEntity
from domain.content import ContentKind, Visibility
from domain.region import Region
from domain.report import Report as ReportEntity
from domain.report import ReportSource
from domain.status import account_status_at
from domain.subject import SubjectKind

if TYPE_CHECKING:
    from api.graphql.transparency import statements
else:
    statements = lazy_module("api.graphql.transparency.statements")


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
    def status(self, info: Info) -> AccountStatus:
        # Answered at once unless a suspension lapsed (a console page asks it of 100 accounts: an awaitable each
        # cost the executor a gathered task)
        until = self.entity.status_until
        if until is None or until > now():
            return self.entity.status
        return when_loaded(  # type: ignore[return-value]
            info.context.loaders.actions_by_target, self.entity.id, lambda actions: account_status_at(actions, now())[0]
        )

    @strawberry.field(description="Strikes on this account, newest last (expired and reversed included).")
    async def strikes(self, info: Info) -> list[StrikeRef]:
        return many(info, StrikeRef, await info.context.loaders.strikes_by_account.load(self.entity.id))

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
    async def review_case(self, info: Info) -> CaseRef | None:
        if self.entity.review_case_id is None:
            return None
        found = await info.context.loaders.case.load(self.entity.review_case_id)
        return one(info, CaseRef, found)

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
    def policy(self, info: Info) -> PolicyRef | None:
        loader = info.context.loaders.policy
        return when_loaded(loader, self.entity.policy_id, lambda e: one(info, PolicyRef, e))  # type: ignore[return-value]

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
    async def outcome_notice(self, info: Info, language: str | None = None) -> NoticeRef | None:
        return await statements.outcome_notice_for(info, self.entity, language)

    @strawberry.field(description="The case this report folded into (needs cases:read).")
    async def case(self, info: Info) -> CaseRef | None:
        found = await info.context.loaders.case.load(self.entity.case_id)
        return one(info, CaseRef, found)
