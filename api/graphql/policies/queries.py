"""Policies' root fields: `policies` (global records) and `strikeLadders` (every version, per region and
surface)."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.permissions import requires
from api.graphql.policies.types import Policy, StrikeLadder, ladder_of
from api.graphql.shared.common import Connection, connection
from api.graphql.shared.listing import page_of, source, visible_regions
from authz.permissions import Permission
from domain.errors import DomainError
from domain.region import Region
from domain.subject import Surface
from persistence.pagination import Page
from persistence.queries import filters as q
from persistence.queries import listing


@strawberry.input
class PolicyFilter:
    surface: Surface | None = None
    code: str | None = None


@strawberry.type
class PolicyQuery:
    @strawberry.field(extensions=requires(Permission.POLICIES_READ), description="Policies are global.")
    async def policies(
        self, info: Info, first: int = 50, after: str | None = None, filter: PolicyFilter | None = None
    ) -> Connection[Policy] | None:
        f = filter or PolicyFilter()
        request = q.PageRequest(first=first, after=after, regions=None)  # global records
        query = q.PolicyFilter(surface=f.surface, code=f.code)
        return await page_of(info, Policy, listing.policies(source(info), query, request))


@strawberry.input
class StrikeLadderFilter:
    region: Region | None = None
    surface: Surface | None = None


@strawberry.type
class LadderQuery:
    @strawberry.field(
        extensions=requires(Permission.LADDERS_READ),
        description="Strike ladder versions in your regions, oldest first (the highest number per region and "
        "surface is in force).",
    )
    async def strike_ladders(
        self, info: Info, first: int = 50, after: str | None = None, filter: StrikeLadderFilter | None = None
    ) -> Connection[StrikeLadder] | None:
        f = filter or StrikeLadderFilter()
        regions = visible_regions(info.context, Permission.LADDERS_READ, f.region)
        request = q.PageRequest(first=first, after=after, regions=regions)
        try:
            page = await listing.strike_ladders(source(info), q.StrikeLadderFilter(surface=f.surface), request)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        return connection(Page([ladder_of(v) for v in page.items], page.cursors, page.has_next, page.has_previous))
