"""Webhooks' root fields: `events` (the outbox) and `webhooks` (your own endpoints)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.permissions import requires
from api.graphql.shared.common import Connection, connection
from api.graphql.webhooks.types import Event, Webhook, caller_of, map_page
from authz.permissions import Permission
from domain.errors import DomainError
from domain.region import Region
from persistence.queries import outbox as oq


@strawberry.input(description="Every given condition must hold. Time bounds: `since` inclusive, `until` exclusive.")
class EventFilter:
    types: list[str] | None = strawberry.field(default=None, description="Event types, e.g. `decision.made`.")
    region: Region | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        extensions=requires(Permission.EVENTS_READ),
        description="Outbound events within your regions, oldest first (the outbox, in the order written).",
    )
    async def events(
        self, info: Info, first: int = 50, after: str | None = None, filter: EventFilter | None = None
    ) -> Connection[Event] | None:
        f = filter or EventFilter()
        flt = oq.EventFilter(
            types=tuple(f.types) if f.types is not None else None,
            region=f.region.value if f.region is not None else None,
            since=f.since,
            until=f.until,
        )
        regions = info.context.permissions.regions(Permission.EVENTS_READ)
        try:
            async with info.context.sessions() as session:
                page = await oq.list_events(session, regions, flt, first=first, after=after)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        return connection(map_page(page, Event.from_row))

    @strawberry.field(
        extensions=requires(Permission.WEBHOOKS_MANAGE),
        description="Your own webhook endpoints, those whose every region you manage webhooks in.",
    )
    async def webhooks(self, info: Info, first: int = 20, after: str | None = None) -> Connection[Webhook] | None:
        caller = caller_of(info)
        try:
            async with info.context.sessions() as session:
                page = await oq.list_webhooks(session, caller.owner_id, caller.regions, first=first, after=after)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        return connection(map_page(page, Webhook.from_entity))
