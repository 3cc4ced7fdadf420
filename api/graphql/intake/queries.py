"""Intake's root fields: `accounts`, `contentItems`, `ads`, `reports`, and `subjectId` / `policyId`.

`subjectId` and `policyId`: how a reporter (a trusted flagger, a platform) finds the IDs `submitReport` and
`submitSignal` take, from what it knows: the platform's own id for an account, a piece of content or an ad, and
the policy's code (the published rules). They answer an ID alone: reporting needs no read access to the record
(a flagger holds `reports:create`, not `content:read` nor `policies:read`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.context import Info
from api.graphql.errors import BadRequest, Forbidden
from api.graphql.ids import to_global_id
from api.graphql.intake.types import Account, Ad, Content, Report
from api.graphql.permissions import requires
from api.graphql.shared.common import Connection
from api.graphql.shared.listing import input_errors, optional_id, page_of, page_request, source
from api.graphql.shared.visibility import own_reporter_id
from authz.permissions import Permission
from domain import limits
from domain.account import AccountKind, AccountStatus
from domain.ad import AdReviewStatus
from domain.content import ContentKind, Visibility
from domain.errors import DomainError
from domain.region import Region
from domain.report import ReportSource
from domain.subject import SubjectKind
from persistence.queries import filters as q
from persistence.queries import listing
from persistence.queries.lookup import policy_id_by_code, subject_id_by_external_id


@strawberry.input
class AccountFilter:
    region: Region | None = None
    status: AccountStatus | None = None
    kind: AccountKind | None = None
    external_id: str | None = None


@strawberry.input
class ContentFilter:
    region: Region | None = None
    visibility: Visibility | None = None
    kind: ContentKind | None = None
    owner_id: strawberry.ID | None = None


@strawberry.input
class AdFilter:
    region: Region | None = None
    review_status: AdReviewStatus | None = None
    advertiser_id: strawberry.ID | None = None


@strawberry.input
class ReportFilter:
    region: Region | None = None
    case_id: strawberry.ID | None = None
    policy_id: strawberry.ID | None = None
    source: ReportSource | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@strawberry.type
class IntakeQuery:
    @strawberry.field(extensions=requires(Permission.ACCOUNTS_READ))
    async def accounts(
        self, info: Info, first: int = 50, after: str | None = None, filter: AccountFilter | None = None
    ) -> Connection[Account] | None:
        f = filter or AccountFilter()
        query = q.AccountFilter(status=f.status, kind=f.kind, external_id=f.external_id)
        request = page_request(info, Permission.ACCOUNTS_READ, f.region, first, after)
        return await page_of(info, Account, listing.accounts(source(info), query, request))

    @strawberry.field(extensions=requires(Permission.CONTENT_READ))
    async def content_items(
        self, info: Info, first: int = 50, after: str | None = None, filter: ContentFilter | None = None
    ) -> Connection[Content] | None:
        f = filter or ContentFilter()
        with input_errors():
            owner = optional_id(f.owner_id, "Account", "ownerId")
        query = q.ContentFilter(visibility=f.visibility, kind=f.kind, owner_id=owner)
        request = page_request(info, Permission.CONTENT_READ, f.region, first, after)
        return await page_of(info, Content, listing.contents(source(info), query, request))

    @strawberry.field(extensions=requires(Permission.ADS_READ))
    async def ads(
        self, info: Info, first: int = 50, after: str | None = None, filter: AdFilter | None = None
    ) -> Connection[Ad] | None:
        f = filter or AdFilter()
        with input_errors():
            advertiser = optional_id(f.advertiser_id, "Account", "advertiserId")
        query = q.AdFilter(review_status=f.review_status, advertiser_id=advertiser)
        request = page_request(info, Permission.ADS_READ, f.region, first, after)
        return await page_of(info, Ad, listing.ads(source(info), query, request))


@strawberry.type
class ReportQuery:
    @strawberry.field(
        extensions=requires(Permission.REPORTS_READ, Permission.REPORTS_READ_OWN),
        description="Reports in your regions; with reports:read_own only (partners), your own reports.",
    )
    async def reports(
        self, info: Info, first: int = 50, after: str | None = None, filter: ReportFilter | None = None
    ) -> Connection[Report] | None:
        f = filter or ReportFilter()
        with input_errors():
            case_id, policy_id = (
                optional_id(f.case_id, "Case", "caseId"),
                optional_id(f.policy_id, "Policy", "policyId"),
            )
        permission, reporter = Permission.REPORTS_READ, None
        if not info.context.permissions.allows(Permission.REPORTS_READ):
            permission, reporter = Permission.REPORTS_READ_OWN, own_reporter_id(info.context)
        query = q.ReportFilter(
            case_id=case_id,
            policy_id=policy_id,
            source=f.source,
            reporter_id=reporter,
            created_after=f.created_after,
            created_before=f.created_before,
        )
        request = page_request(info, permission, f.region, first, after)
        return await page_of(info, Report, listing.reports_page(source(info), query, request))


TYPE_NAMES = {SubjectKind.ACCOUNT: "Account", SubjectKind.CONTENT: "Content", SubjectKind.AD: "Ad"}


@strawberry.type
class LookupQuery:
    @strawberry.field(
        extensions=requires(Permission.REPORTS_CREATE),
        description="The global ID of the account, content or ad that the platform knows as `externalId` in "
        "`region` (the ID `submitReport` takes as `subjectId`); null when there is none. Needs reports:create "
        "in that region.",
    )
    async def subject_id(self, info: Info, region: Region, kind: SubjectKind, external_id: str) -> strawberry.ID | None:
        if not info.context.permissions.allows(Permission.REPORTS_CREATE, region.value):
            raise Forbidden(f"permission {Permission.REPORTS_CREATE.value} is required in region {region.value}")
        try:
            limits.text(external_id, field="externalId", max_len=limits.NAME_MAX)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        async with info.context.sessions() as session:
            found = await subject_id_by_external_id(session, kind, region, external_id)
        return None if found is None else strawberry.ID(to_global_id(TYPE_NAMES[kind], found))

    @strawberry.field(
        extensions=requires(Permission.REPORTS_CREATE, Permission.SIGNALS_CREATE),
        description="The global ID of the policy with this code (e.g. HATE_SPEECH), as reports and signals cite "
        "it; null when there is none. Needs reports:create or signals:create.",
    )
    async def policy_id(self, info: Info, code: str) -> strawberry.ID | None:
        try:
            limits.text(code, field="code", max_len=limits.NAME_MAX)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        async with info.context.sessions() as session:
            found = await policy_id_by_code(session, code)
        return None if found is None else strawberry.ID(to_global_id("Policy", found))
