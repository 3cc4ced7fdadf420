"""The records of webhooks: Event, Webhook and WebhookDelivery (loaded per request)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.ids import to_global_id
from api.graphql.runner import actor_for
from api.graphql.shared.common import Connection, connection
from api.graphql.shared.node import Node
from authz.permissions import Permission
from domain.errors import DomainError
from domain.outbox import webhook as wh
from domain.outbox.services import webhooks as services
from domain.region import Region
from persistence.pagination import Page
from persistence.queries import outbox as oq

T = TypeVar("T")


N = TypeVar("N")


@strawberry.type(description="A fact Vigil tells the platform (the body of a webhook, a NATS message).")
class Event(Node):
    event_id: strawberry.ID = strawberry.field(description="The event's own id: the `webhook-id` of its deliveries.")
    sequence: int = strawberry.field(description="Position in the outbox (events are numbered as written).")
    type: str = strawberry.field(description="e.g. `decision.made`; see the README's event catalogue.")
    version: int = strawberry.field(description="The payload's schema version for its type.")
    region: Region
    subject_kind: str = strawberry.field(description="CONTENT, ACCOUNT or AD: what the event is about.")
    subject_id: str = strawberry.field(description="The subject's raw id (a UUID).")
    occurred_at: datetime
    payload: JSON

    @classmethod
    def from_row(cls, row: oq.EventRow) -> Event:
        e = row.event
        return cls(
            id=strawberry.ID(to_global_id("Event", str(e.id))),
            event_id=strawberry.ID(str(e.id)),
            sequence=row.seq,
            type=e.type,
            version=e.version,
            region=Region(e.region),
            subject_kind=e.subject_kind,
            subject_id=str(e.subject_id),
            occurred_at=e.occurred_at,
            payload=JSON(e.payload),
        )


@strawberry.type(description="One event for one endpoint: tried until answered 2xx, then DEAD after the last try.")
class WebhookDelivery(Node):
    state: wh.DeliveryState
    attempts: int = strawberry.field(description="Tries so far (since the last manual redelivery).")
    next_attempt_at: datetime | None = strawberry.field(description="When it is tried next (PENDING only).")
    last_attempt_at: datetime | None
    last_status: int | None = strawberry.field(description="The HTTP status of the last try (null: no answer).")
    last_error: str | None = strawberry.field(description="Why the last try failed: `timeout`, `HTTP 500`, ...")
    delivered_at: datetime | None
    created_at: datetime
    event_id: strawberry.ID = strawberry.field(description="The `webhook-id` the endpoint received.")

    @strawberry.field(description="The event delivered (null without `events:read` in its region).")
    async def event(self, info: Info) -> Event | None:
        row = await _event_loader(info).load(uuid.UUID(str(self.event_id)))
        return Event.from_row(row) if row is not None else None

    @classmethod
    def from_entity(cls, d: wh.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(to_global_id("WebhookDelivery", str(d.id))),
            state=d.state,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.state is wh.DeliveryState.PENDING else None,
            last_attempt_at=d.last_attempt_at,
            last_status=d.last_status,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
            created_at=d.created_at,
            event_id=strawberry.ID(str(d.event_id)),
        )


@strawberry.type(description="An endpoint that receives signed events (Standard Webhooks).")
class Webhook(Node):
    url: str
    description: str
    event_types: list[str]
    regions: list[Region]
    enabled: bool
    disabled_at: datetime | None
    created_at: datetime
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="Until then deliveries carry two signatures: the new secret's and the previous one's."
    )
    raw_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Delivery history, newest first.")
    async def deliveries(
        self, info: Info, first: int = 20, after: str | None = None, state: wh.DeliveryState | None = None
    ) -> Connection[WebhookDelivery]:
        key = (self.raw_id, state.value if state is not None else None, first, after)
        try:
            page = await _delivery_loader(info).load(key)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        return connection(map_page(page, WebhookDelivery.from_entity))

    @classmethod
    def from_entity(cls, e: wh.WebhookEndpoint) -> Webhook:
        return cls(
            id=strawberry.ID(to_global_id("Webhook", str(e.id))),
            url=e.url,
            description=e.description,
            event_types=list(e.event_types),
            regions=list(e.regions),
            enabled=e.enabled,
            disabled_at=e.disabled_at,
            created_at=e.created_at,
            previous_secret_expires_at=e.previous_secret_expires_at,
            raw_id=e.id,
        )


def map_page(page: Page[T], convert: Callable[[T], N]) -> Page[N]:
    return Page(
        items=[convert(i) for i in page.items],
        cursors=page.cursors,
        has_next=page.has_next,
        has_previous=page.has_previous,
    )


def _event_loader(info: Info) -> DataLoader[uuid.UUID, oq.EventRow | None]:
    context = info.context
    loader = context.webhook_event_loader
    if loader is None:
        regions = context.permissions.regions(Permission.EVENTS_READ)
        readable = context.permissions.allows(Permission.EVENTS_READ)

        async def load(ids: Sequence[uuid.UUID]) -> list[oq.EventRow | None]:
            if not readable:
                return [None for _ in ids]
            async with context.sessions() as session:
                found = await oq.events_by_id(session, regions, ids)
            return [found.get(i) for i in ids]

        loader = context.webhook_event_loader = DataLoader(load_fn=load)
    return loader


def _delivery_loader(info: Info) -> DataLoader[oq.DeliveryKey, Page[wh.WebhookDelivery]]:
    loader = info.context.webhook_delivery_loader
    if loader is None:
        sessions = info.context.sessions
        regions = info.context.permissions.regions(Permission.WEBHOOKS_MANAGE)

        async def load(keys: Sequence[oq.DeliveryKey]) -> list[Page[wh.WebhookDelivery]]:
            async with sessions() as session:
                return await oq.delivery_histories(session, regions, keys)

        loader = info.context.webhook_delivery_loader = DataLoader(load_fn=load)
    return loader


def owner_of(info: Info) -> str:
    return actor_for(info.context, Permission.WEBHOOKS_MANAGE).id


def caller_of(info: Info) -> services.WebhookCaller:
    """The caller as webhooks see it: the owner it acts as, and where it manages webhooks."""
    return services.WebhookCaller(owner_of(info), info.context.permissions.regions(Permission.WEBHOOKS_MANAGE))
