"""Appeals' root field: `appeals`, a filtered connection in your regions."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.appeals.types import Appeal
from api.graphql.context import Info
from api.graphql.permissions import requires
from api.graphql.shared.common import Connection
from api.graphql.shared.listing import input_errors, optional_id, page_of, page_request, source
from authz.permissions import Permission
from domain.appeal import AppealState
from domain.region import Region
from persistence.queries import filters as q
from persistence.queries import listing


@strawberry.input
class AppealFilter:
    region: Region | None = None
    state: AppealState | None = None
    appellant_id: strawberry.ID | None = None
    queue_id: strawberry.ID | None = strawberry.field(default=None, description="Appeals waiting in this queue.")
    filed_after: datetime | None = None
    filed_before: datetime | None = None


@strawberry.type
class AppealQuery:
    @strawberry.field(extensions=requires(Permission.APPEALS_READ))
    async def appeals(
        self, info: Info, first: int = 50, after: str | None = None, filter: AppealFilter | None = None
    ) -> Connection[Appeal] | None:
        f = filter or AppealFilter()
        with input_errors():
            query = q.AppealFilter(
                state=f.state,
                appellant_id=optional_id(f.appellant_id, "Account", "appellantId"),
                queue_id=optional_id(f.queue_id, "Queue", "queueId"),
                filed_after=f.filed_after,
                filed_before=f.filed_before,
            )
        request = page_request(info, Permission.APPEALS_READ, f.region, first, after)
        return await page_of(info, Appeal, listing.appeals(source(info), query, request))
