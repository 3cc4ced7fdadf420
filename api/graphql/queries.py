"""Root query fields for the moderation records: `node`, `nodes` and one filtered connection per record type.

Visibility is decided in SQL: the regions where the principal holds the type's read permission become
`region IN (...)`; a record elsewhere is absent from lists and `node(id)` answers null, as if it did not exist.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
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
from persistence import reads
from persistence.mapping import EntityMapping
from persistence.repositories import ACCOUNTS, ADS, APPEALS, CASES, CONTENTS, DECISIONS, POLICIES, REPORTS, STRIKES
from persistence.tables.cases import reports as reports_table

READ_PERMISSIONS = tuple(sorted({perm for _, perm in NODE_TYPES.values()} | {Permission.REPORTS_READ_OWN}))
MAX_NODES = 100


def visible_regions(context: Context, permission: Permission, wanted: Region | None) -> frozenset[str] | None:
    regions = context.permissions.regions(permission)
    if wanted is None:
        return regions
    if regions is None or wanted.value in regions:
        return frozenset({wanted.value})
    return frozenset()


def between(column: sa.ColumnElement[Any], after: datetime | None, before: datetime | None) -> list[Any]:
    clauses: list[Any] = []
    if after is not None:
        clauses.append(column >= after)
    if before is not None:
        clauses.append(column < before)
    return clauses


def eq(column: sa.ColumnElement[Any], value: Any) -> list[Any]:
    return [] if value is None else [column == value]


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


def _account_status(status: AccountStatus | None) -> list[Any]:
    """Status as it is now: a suspension or restriction whose end has passed no longer matches its stored
    status, and reads as ACTIVE (the `status` field recomputes the exact value from the actions in force)."""
    if status is None:
        return []
    t = ACCOUNTS.table.c
    current = sa.and_(t.status == status, sa.or_(t.status_until.is_(None), t.status_until > datetime.now(UTC)))
    if status is AccountStatus.ACTIVE:
        return [sa.or_(current, t.status_until <= datetime.now(UTC))]
    return [current]


def _strike_status(status: StrikeStatus | None) -> list[Any]:
    t = STRIKES.table.c
    now = datetime.now(UTC)
    if status is None:
        return []
    if status is StrikeStatus.REVERSED:
        return [t.status == StrikeStatus.REVERSED]
    if status is StrikeStatus.EXPIRED:
        return [t.status == StrikeStatus.ACTIVE, t.expires_at <= now]
    return [t.status == StrikeStatus.ACTIVE, t.expires_at > now]


async def resolve_node(info: Info, global_id: str) -> Node | None:
    parsed = parse_any(global_id)
    if parsed is None or parsed[0] not in NODE_TYPES:
        return None
    type_name, raw = parsed
    try:
        entity_id = uuid.UUID(raw)
    except ValueError:
        return None
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
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise _bad_input(DomainError.invalid_input(f"at most {MAX_NODES} ids", field="ids"))
        return list(await asyncio.gather(*(resolve_node(info, i) for i in ids)))  # one batch per type

    @strawberry.field(extensions=requires(Permission.ACCOUNTS_READ))
    async def accounts(
        self, info: Info, first: int = 50, after: str | None = None, filter: AccountFilter | None = None
    ) -> Connection[Account]:
        f = filter or AccountFilter()
        t = ACCOUNTS.table.c
        where = _account_status(f.status) + eq(t.kind, f.kind) + eq(t.external_id, f.external_id)
        return await _run_page(info, ACCOUNTS, Account, Permission.ACCOUNTS_READ, f.region, where, first, after)

    @strawberry.field(extensions=requires(Permission.CONTENT_READ))
    async def content_items(
        self, info: Info, first: int = 50, after: str | None = None, filter: ContentFilter | None = None
    ) -> Connection[Content]:
        f = filter or ContentFilter()
        t = CONTENTS.table.c
        try:
            where = eq(t.visibility, f.visibility) + eq(t.kind, f.kind)
            where += eq(t.owner_account_id, _uuid(f.owner_id, "Account", "ownerId"))
        except DomainError as exc:
            raise _bad_input(exc) from exc
        return await _run_page(info, CONTENTS, Content, Permission.CONTENT_READ, f.region, where, first, after)

    @strawberry.field(extensions=requires(Permission.ADS_READ))
    async def ads(
        self, info: Info, first: int = 50, after: str | None = None, filter: AdFilter | None = None
    ) -> Connection[Ad]:
        f = filter or AdFilter()
        t = ADS.table.c
        try:
            where = eq(t.review_status, f.review_status)
            where += eq(t.advertiser_account_id, _uuid(f.advertiser_id, "Account", "advertiserId"))
        except DomainError as exc:
            raise _bad_input(exc) from exc
        return await _run_page(info, ADS, Ad, Permission.ADS_READ, f.region, where, first, after)

    @strawberry.field(extensions=requires(Permission.POLICIES_READ), description="Policies are global.")
    async def policies(
        self, info: Info, first: int = 50, after: str | None = None, filter: PolicyFilter | None = None
    ) -> Connection[Policy]:
        f = filter or PolicyFilter()
        t = POLICIES.table.c
        where = eq(t.surface, f.surface) + eq(t.code, f.code)
        return await _run_page(
            info, POLICIES, Policy, Permission.POLICIES_READ, None, where, first, after, global_records=True
        )

    @strawberry.field(
        extensions=requires(Permission.REPORTS_READ, Permission.REPORTS_READ_OWN),
        description="Reports in your regions; with reports:read_own only (partners), your own reports.",
    )
    async def reports(
        self, info: Info, first: int = 50, after: str | None = None, filter: ReportFilter | None = None
    ) -> Connection[Report]:
        f = filter or ReportFilter()
        t = REPORTS.table.c
        try:
            where = eq(t.case_id, _uuid(f.case_id, "Case", "caseId")) + eq(t.source, f.source)
            where += eq(t.policy_id, _uuid(f.policy_id, "Policy", "policyId"))
        except DomainError as exc:
            raise _bad_input(exc) from exc
        where += between(t.created_at, f.created_after, f.created_before)
        permission = Permission.REPORTS_READ
        if not info.context.permissions.allows(Permission.REPORTS_READ):
            permission = Permission.REPORTS_READ_OWN
            where.append(t.reporter_id == own_reporter_id(info.context))
        return await _run_page(info, REPORTS, Report, permission, f.region, where, first, after)

    @strawberry.field(extensions=requires(Permission.CASES_READ))
    async def cases(
        self, info: Info, first: int = 50, after: str | None = None, filter: CaseFilter | None = None
    ) -> Connection[Case]:
        f = filter or CaseFilter()
        t = CASES.table.c
        try:
            where = eq(t.surface, f.surface) + between(t.created_at, f.created_after, f.created_before)
            where += [t.state.in_(f.states)] if f.states else []
            where += eq(t.subject_id, _subject_uuid(f.subject_id) if f.subject_id else None)
            where += eq(t.subject_account_id, _uuid(f.account_id, "Account", "accountId"))
            policy = _uuid(f.policy_id, "Policy", "policyId")
        except DomainError as exc:
            raise _bad_input(exc) from exc
        if policy is not None:
            r = reports_table.c
            where.append(sa.exists().where(r.case_id == t.id, r.policy_id == policy))
        return await _run_page(info, CASES, Case, Permission.CASES_READ, f.region, where, first, after)

    @strawberry.field(extensions=requires(Permission.CASES_READ), description="Decisions, newest first.")
    async def decisions(
        self, info: Info, first: int = 50, after: str | None = None, filter: DecisionFilter | None = None
    ) -> Connection[Decision]:
        f = filter or DecisionFilter()
        t = DECISIONS.table.c
        try:
            where = eq(t.verdict, f.verdict) + eq(t.decider_id, f.decider_id)
            where += eq(t.policy_id, _uuid(f.policy_id, "Policy", "policyId"))
        except DomainError as exc:
            raise _bad_input(exc) from exc
        where += between(t.decided_at, f.decided_after, f.decided_before)
        return await _run_page(
            info, DECISIONS, Decision, Permission.CASES_READ, f.region, where, first, after, sort="decided_at"
        )

    @strawberry.field(extensions=requires(Permission.ACCOUNTS_READ))
    async def strikes(
        self, info: Info, first: int = 50, after: str | None = None, filter: StrikeFilter | None = None
    ) -> Connection[Strike]:
        f = filter or StrikeFilter()
        t = STRIKES.table.c
        try:
            where = eq(t.account_id, _uuid(f.account_id, "Account", "accountId"))
            where += eq(t.policy_id, _uuid(f.policy_id, "Policy", "policyId"))
        except DomainError as exc:
            raise _bad_input(exc) from exc
        where += _strike_status(f.status)
        return await _run_page(info, STRIKES, Strike, Permission.ACCOUNTS_READ, f.region, where, first, after)

    @strawberry.field(extensions=requires(Permission.APPEALS_READ))
    async def appeals(
        self, info: Info, first: int = 50, after: str | None = None, filter: AppealFilter | None = None
    ) -> Connection[Appeal]:
        f = filter or AppealFilter()
        t = APPEALS.table.c
        try:
            where = eq(t.state, f.state) + eq(t.appellant_account_id, _uuid(f.appellant_id, "Account", "appellantId"))
            where += eq(t.queue_id, _uuid(f.queue_id, "Queue", "queueId"))
        except DomainError as exc:
            raise _bad_input(exc) from exc
        where += between(t.filed_at, f.filed_after, f.filed_before)
        return await _run_page(info, APPEALS, Appeal, Permission.APPEALS_READ, f.region, where, first, after)


async def _run_page(
    info: Info,
    mapping: EntityMapping[Any],
    node_type: type[Any],
    permission: Permission,
    region: Region | None,
    where: list[Any],
    first: int,
    after: str | None,
    *,
    sort: str = "created_at",
    global_records: bool = False,
) -> Connection[Any]:
    context = info.context
    regions = None if global_records else visible_regions(context, permission, region)
    try:
        if context.pool is not None:
            page = await reads.fetch_page(
                context.pool, mapping, where=where, regions=regions, first=first, after=after, sort=sort
            )
        else:
            async with context.sessions() as session:
                page = await reads.page(
                    session, mapping, where=where, regions=regions, first=first, after=after, sort=sort
                )
    except DomainError as exc:
        raise _bad_input(exc) from exc
    if mapping is CASES:
        await prime_cases(info, page.items)
    return connection(
        type(page)([build(node_type, e) for e in page.items], page.cursors, page.has_next, page.has_previous)
    )
