"""`node` and `nodes`: any record by its global ID, over every area's record types (`NODE_TYPES`); and
`ALL_TYPES`, the types the schema must know even when no field names them directly (Node implementations)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import strawberry

from api.graphql.appeals.types import Appeal
from api.graphql.context import Info
from api.graphql.ids import parse_any
from api.graphql.intake.types import Account, Ad, Content, Report
from api.graphql.permissions import requires
from api.graphql.policies.types import Policy, PolicyVersion
from api.graphql.review.bulk import own_bulk_job
from api.graphql.review.types import Case, Decision, EnforcementAction, Strike
from api.graphql.shared.build import build
from api.graphql.shared.listing import bad_input
from api.graphql.shared.node import Node
from api.graphql.shared.visibility import visible
from api.graphql.transparency.records import AuthorityOrder, OutOfCourtDispute
from authz.permissions import Permission
from domain.errors import DomainError

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
    "AuthorityOrder": (AuthorityOrder, Permission.METRICS_READ),
    "OutOfCourtDispute": (OutOfCourtDispute, Permission.APPEALS_READ),
}
"""GraphQL type name → (type, the permission that reads it in the record's region)."""


READ_PERMISSIONS = tuple(sorted({perm for _, perm in NODE_TYPES.values()} | {Permission.REPORTS_READ_OWN}))


MAX_NODES = 100


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
    "AuthorityOrder": "authority_order",
    "OutOfCourtDispute": "out_of_court_dispute",
}


@strawberry.type
class NodeQuery:
    @strawberry.field(
        extensions=requires(*READ_PERMISSIONS),
        description="Any record by its global ID; null if it does not exist or lies outside your regions.",
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(extensions=requires(*READ_PERMISSIONS), description="Up to 100 records by global ID, in order.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None] | None:
        if len(ids) > MAX_NODES:
            raise bad_input(DomainError.invalid_input(f"at most {MAX_NODES} ids", field="ids"))
        return list(await asyncio.gather(*(resolve_node(info, i) for i in ids)))  # one batch per type


ALL_TYPES: list[Any] = [node_type for node_type, _ in NODE_TYPES.values()]
