"""Root query fields for the moderation records: `node`, `nodes` and one filtered connection per record type.

Visibility is decided in SQL: the regions where the principal holds the type's read permission become
`region IN (...)`; a record elsewhere is absent from lists and `node(id)` answers null, as if it did not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any

import strawberry

from api.graphql.context import Context, Info
from api.graphql.ids import parse_any, parse_id
from api.graphql.lookahead import prime_cases
from api.graphql.permissions import requires
from api.graphql.types.common import Connection, connection
from api.graphql.types.nodes import (
    NODE_TYPES,
    Account,
    Ad,
    Appeal,
    Case,
    Content,
    Decision,
    Node,
    Policy,
    Report,
    Strike,
    build,
)
from api.graphql.visibility import own_reporter_id, visible
from authz.permissions import Permission
from domain.account import AccountKind, AccountStatus
from domain.ad import AdReviewStatus
from domain.appeal import AppealState
from domain.case import CaseState
from domain.content import ContentKind, Visibility
from domain.decision import Verdict
from domain.errors import DomainError
from domain.region import Region
from domain.report import ReportSource
from domain.strike import StrikeStatus
from domain.subject import Surface
from persistence.pagination import Page
from persistence.queries import filters as q
from persistence.queries import listing

READ_PERMISSIONS = tuple(sorted({perm for _, perm in NODE_TYPES.values()} | {Permission.REPORTS_READ_OWN}))
MAX_NODES = 100


def visible_regions(context: Context, permission: Permission, wanted: Region | None) -> frozenset[str] | None:
    regions = context.permissions.regions(permission)
    if wanted is None:
        return regions
    if regions is None or wanted.value in regions:
        return frozenset({wanted.value})
    return frozenset()


def _uuid(global_id: strawberry.ID | None, type_name: str, field: str) -> uuid.UUID | None:
    return None if global_id is None else parse_id(global_id, type_name, field=field)


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
class PolicyFilter:
    surface: Surface | None = None
    code: str | None = None


@strawberry.input
class ReportFilter:
    region: Region | None = None
    case_id: strawberry.ID | None = None
    policy_id: strawberry.ID | None = None
    source: ReportSource | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@strawberry.input
class CaseFilter:
    region: Region | None = None
    states: list[CaseState] | None = None
    surface: Surface | None = None
    subject_id: strawberry.ID | None = strawberry.field(default=None, description="An Account, Content or Ad ID.")
    account_id: strawberry.ID | None = None
    policy_id: strawberry.ID | None = strawberry.field(default=None, description="Cases with a report under it.")
    created_after: datetime | None = None
    created_before: datetime | None = None


@strawberry.input
class DecisionFilter:
    region: Region | None = None
    verdict: Verdict | None = None
    policy_id: strawberry.ID | None = None
    decider_id: str | None = None
    decided_after: datetime | None = None
    decided_before: datetime | None = None


@strawberry.input
class StrikeFilter:
    region: Region | None = None
    account_id: strawberry.ID | None = None
    policy_id: strawberry.ID | None = None
    status: StrikeStatus | None = None


@strawberry.input
class AppealFilter:
    region: Region | None = None
    state: AppealState | None = None
    appellant_id: strawberry.ID | None = None
    queue_id: strawberry.ID | None = strawberry.field(default=None, description="Appeals waiting in this queue.")
    filed_after: datetime | None = None
    filed_before: datetime | None = None


def _subject_uuid(global_id: strawberry.ID) -> uuid.UUID:
    return parse_id(global_id, ("Account", "Content", "Ad"), field="subjectId")


async def resolve_node(info: Info, global_id: str) -> Node | None:
    parsed = parse_any(global_id)
    if parsed is None or (parsed[0] not in NODE_TYPES and parsed[0] != "BulkJob"):
        return None
    type_name, raw = parsed
    try:
        entity_id = uuid.UUID(raw)
    except ValueError:
        return None
    if type_name == "BulkJob":  # not a regional record: its submitter's alone
        from api.graphql.bulk import own_bulk_job

        return await own_bulk_job(info, entity_id)
    node_type = NODE_TYPES[type_name][0]
    loader = getattr(info.context.loaders, _LOADER_NAMES[type_name])
    entity = await loader.load(entity_id)
    if entity is None or not visible(info.context, type_name, entity):
        return None
    return build(node_type, entity)  # type: ignore[no-any-return]


_LOADER_NAMES = {
    "Account": "account",
    "Content": "content",
    "Ad": "ad",
    "Policy": "policy",
    "PolicyVersion": "policy_version",
    "Report": "report",
    "Case": "case",
    "Decision": "decision",
    "EnforcementAction": "action",
    "Strike": "strike",
    "Appeal": "appeal",
}

FIRST = strawberry.argument(description="Page size, at most 100.")


def _bad_input(exc: DomainError) -> Exception:
    from api.graphql.errors import BadRequest

    return BadRequest(exc.message, field=exc.field)


@strawberry.type
class CoreQuery:
    @strawberry.field(
        extensions=requires(*READ_PERMISSIONS),
        description="Any record by its global ID; null if it does not exist or lies outside your regions.",
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(extensions=requires(*READ_PERMISSIONS), description="Up to 100 records by global ID, in order.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None] | None:
        if len(ids) > MAX_NODES:
            raise _bad_input(DomainError.invalid_input(f"at most {MAX_NODES} ids", field="ids"))
        return list(await asyncio.gather(*(resolve_node(info, i) for i in ids)))  # one batch per type

    @strawberry.field(extensions=requires(Permission.ACCOUNTS_READ))
    async def accounts(
        self, info: Info, first: int = 50, after: str | None = None, filter: AccountFilter | None = None
    ) -> Connection[Account] | None:
        f = filter or AccountFilter()
        query = q.AccountFilter(status=f.status, kind=f.kind, external_id=f.external_id)
        request = _request(info, Permission.ACCOUNTS_READ, f.region, first, after)
        return await _page(info, Account, listing.accounts(_source(info), query, request))

    @strawberry.field(extensions=requires(Permission.CONTENT_READ))
    async def content_items(
        self, info: Info, first: int = 50, after: str | None = None, filter: ContentFilter | None = None
    ) -> Connection[Content] | None:
        f = filter or ContentFilter()
        with _input_errors():
            owner = _uuid(f.owner_id, "Account", "ownerId")
        query = q.ContentFilter(visibility=f.visibility, kind=f.kind, owner_id=owner)
        request = _request(info, Permission.CONTENT_READ, f.region, first, after)
        return await _page(info, Content, listing.contents(_source(info), query, request))

    @strawberry.field(extensions=requires(Permission.ADS_READ))
    async def ads(
        self, info: Info, first: int = 50, after: str | None = None, filter: AdFilter | None = None
    ) -> Connection[Ad] | None:
        f = filter or AdFilter()
        with _input_errors():
            advertiser = _uuid(f.advertiser_id, "Account", "advertiserId")
        query = q.AdFilter(review_status=f.review_status, advertiser_id=advertiser)
        request = _request(info, Permission.ADS_READ, f.region, first, after)
        return await _page(info, Ad, listing.ads(_source(info), query, request))

    @strawberry.field(extensions=requires(Permission.POLICIES_READ), description="Policies are global.")
    async def policies(
        self, info: Info, first: int = 50, after: str | None = None, filter: PolicyFilter | None = None
    ) -> Connection[Policy] | None:
        f = filter or PolicyFilter()
        request = q.PageRequest(first=first, after=after, regions=None)  # global records
        query = q.PolicyFilter(surface=f.surface, code=f.code)
        return await _page(info, Policy, listing.policies(_source(info), query, request))

    @strawberry.field(
        extensions=requires(Permission.REPORTS_READ, Permission.REPORTS_READ_OWN),
        description="Reports in your regions; with reports:read_own only (partners), your own reports.",
    )
    async def reports(
        self, info: Info, first: int = 50, after: str | None = None, filter: ReportFilter | None = None
    ) -> Connection[Report] | None:
        f = filter or ReportFilter()
        with _input_errors():
            case_id, policy_id = _uuid(f.case_id, "Case", "caseId"), _uuid(f.policy_id, "Policy", "policyId")
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
        request = _request(info, permission, f.region, first, after)
        return await _page(info, Report, listing.reports_page(_source(info), query, request))

    @strawberry.field(extensions=requires(Permission.CASES_READ))
    async def cases(
        self, info: Info, first: int = 50, after: str | None = None, filter: CaseFilter | None = None
    ) -> Connection[Case] | None:
        f = filter or CaseFilter()
        with _input_errors():
            query = q.CaseFilter(
                states=tuple(f.states or ()),
                surface=f.surface,
                subject_id=_subject_uuid(f.subject_id) if f.subject_id else None,
                account_id=_uuid(f.account_id, "Account", "accountId"),
                policy_id=_uuid(f.policy_id, "Policy", "policyId"),
                created_after=f.created_after,
                created_before=f.created_before,
            )
        request = _request(info, Permission.CASES_READ, f.region, first, after)
        return await _page(info, Case, listing.cases(_source(info), query, request), look_ahead=prime_cases)

    @strawberry.field(extensions=requires(Permission.CASES_READ), description="Decisions, newest first.")
    async def decisions(
        self, info: Info, first: int = 50, after: str | None = None, filter: DecisionFilter | None = None
    ) -> Connection[Decision] | None:
        f = filter or DecisionFilter()
        with _input_errors():
            policy_id = _uuid(f.policy_id, "Policy", "policyId")
        query = q.DecisionFilter(
            verdict=f.verdict,
            policy_id=policy_id,
            decider_id=f.decider_id,
            decided_after=f.decided_after,
            decided_before=f.decided_before,
        )
        request = _request(info, Permission.CASES_READ, f.region, first, after)
        return await _page(info, Decision, listing.decisions(_source(info), query, request))

    @strawberry.field(extensions=requires(Permission.ACCOUNTS_READ))
    async def strikes(
        self, info: Info, first: int = 50, after: str | None = None, filter: StrikeFilter | None = None
    ) -> Connection[Strike] | None:
        f = filter or StrikeFilter()
        with _input_errors():
            account_id = _uuid(f.account_id, "Account", "accountId")
            policy_id = _uuid(f.policy_id, "Policy", "policyId")
        query = q.StrikeFilter(account_id=account_id, policy_id=policy_id, status=f.status)
        request = _request(info, Permission.ACCOUNTS_READ, f.region, first, after)
        return await _page(info, Strike, listing.strikes(_source(info), query, request))

    @strawberry.field(extensions=requires(Permission.APPEALS_READ))
    async def appeals(
        self, info: Info, first: int = 50, after: str | None = None, filter: AppealFilter | None = None
    ) -> Connection[Appeal] | None:
        f = filter or AppealFilter()
        with _input_errors():
            query = q.AppealFilter(
                state=f.state,
                appellant_id=_uuid(f.appellant_id, "Account", "appellantId"),
                queue_id=_uuid(f.queue_id, "Queue", "queueId"),
                filed_after=f.filed_after,
                filed_before=f.filed_before,
            )
        request = _request(info, Permission.APPEALS_READ, f.region, first, after)
        return await _page(info, Appeal, listing.appeals(_source(info), query, request))


@contextlib.contextmanager
def _input_errors() -> Iterator[None]:
    """An id that does not parse is the client's mistake: BAD_REQUEST naming the field."""
    try:
        yield
    except DomainError as exc:
        raise _bad_input(exc) from exc


def _source(info: Info) -> listing.Source:
    return listing.Source(info.context.pool, info.context.sessions)


def _request(info: Info, permission: Permission, region: Region | None, first: int, after: str | None) -> q.PageRequest:
    return q.PageRequest(first=first, after=after, regions=visible_regions(info.context, permission, region))


async def _page(
    info: Info,
    node_type: type[Any],
    pending: Awaitable[Page[Any]],
    *,
    look_ahead: Callable[[Info, list[Any]], Awaitable[None]] | None = None,
) -> Connection[Any]:
    """The page as a connection of ``node_type``; ``look_ahead`` loads the relations its selection names."""
    try:
        page = await pending
    except DomainError as exc:  # a cursor that is not ours, a page size out of range
        raise _bad_input(exc) from exc
    if look_ahead is not None:
        await look_ahead(info, page.items)
    return connection(
        type(page)([build(node_type, e) for e in page.items], page.cursors, page.has_next, page.has_previous)
    )
