"""Outbound events and webhooks over GraphQL: `events`, `webhooks`, `registerWebhook`, `rotateWebhookSecret`,
`disableWebhook`, `redeliverWebhook`.

Events are read with `events:read` within the reader's regions. Webhook endpoints belong to whoever registered
them (a partner organisation, or a staff member): `webhooks` lists only the caller's own, another's is NOT_FOUND,
and an endpoint may only name regions where its owner may read events. A signing secret appears exactly once, in
the payload of `registerWebhook` or `rotateWebhookSecret`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, TypeVar

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.ids import parse_id, to_global_id
from api.graphql.permissions import requires
from api.graphql.runner import actor_for, run
from api.graphql.types.common import Connection, MutationError, connection
from api.graphql.types.node import Node
from authz.permissions import Permission
from domain import webhook as wh
from domain.actor import Actor
from domain.errors import DomainError
from domain.events import EVENT_TYPES
from domain.region import Region
from domain.services import webhooks as services
from persistence import outbox_queries as oq
from persistence.pagination import Page
from persistence.repositories import PostgresUnitOfWork

T = TypeVar("T")
N = TypeVar("N")
EVENT_LOADER = "webhooks.events"
DELIVERY_LOADER = "webhooks.deliveries"


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
        return connection(_map(page, WebhookDelivery.from_entity))

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


def _map(page: Page[T], convert: Callable[[T], N]) -> Page[N]:
    return Page(
        items=[convert(i) for i in page.items],
        cursors=page.cursors,
        has_next=page.has_next,
        has_previous=page.has_previous,
    )


def _event_loader(info: Info) -> DataLoader[uuid.UUID, oq.EventRow | None]:
    extras = info.context.extras
    loader: DataLoader[uuid.UUID, oq.EventRow | None] | None = extras.get(EVENT_LOADER)
    if loader is None:
        context = info.context
        regions = context.permissions.regions(Permission.EVENTS_READ)
        readable = context.permissions.allows(Permission.EVENTS_READ)

        async def load(ids: Sequence[uuid.UUID]) -> list[oq.EventRow | None]:
            if not readable:
                return [None for _ in ids]
            async with context.sessions() as session:
                found = await oq.events_by_id(session, regions, ids)
            return [found.get(i) for i in ids]

        loader = extras[EVENT_LOADER] = DataLoader(load_fn=load)
    return loader


def _delivery_loader(info: Info) -> DataLoader[oq.DeliveryKey, Page[wh.WebhookDelivery]]:
    extras = info.context.extras
    loader: DataLoader[oq.DeliveryKey, Page[wh.WebhookDelivery]] | None = extras.get(DELIVERY_LOADER)
    if loader is None:
        sessions = info.context.sessions
        regions = info.context.permissions.regions(Permission.WEBHOOKS_MANAGE)

        async def load(keys: Sequence[oq.DeliveryKey]) -> list[Page[wh.WebhookDelivery]]:
            async with sessions() as session:
                return await oq.delivery_histories(session, regions, keys)

        loader = extras[DELIVERY_LOADER] = DataLoader(load_fn=load)
    return loader


def _owner(info: Info) -> str:
    return actor_for(info.context, Permission.WEBHOOKS_MANAGE).id


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
        return connection(_map(page, Event.from_row))

    @strawberry.field(extensions=requires(Permission.WEBHOOKS_MANAGE), description="Your own webhook endpoints.")
    async def webhooks(self, info: Info, first: int = 20, after: str | None = None) -> Connection[Webhook] | None:
        try:
            async with info.context.sessions() as session:
                page = await oq.list_webhooks(session, _owner(info), first=first, after=after)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        return connection(_map(page, Webhook.from_entity))


@strawberry.input(description="An endpoint: where to send which event types of which regions.")
class RegisterWebhookInput:
    url: str = strawberry.field(description="Absolute https:// URL (http:// too outside production).")
    event_types: list[str] = strawberry.field(description="Types from the event catalogue, e.g. `decision.made`.")
    regions: list[Region] = strawberry.field(description="Regions whose events it receives (where you read events).")
    description: str = ""


@strawberry.type(description="The endpoint and its signing secret. Store the secret now: it is never shown again.")
class RegisterWebhookSuccess:
    webhook: Webhook
    secret: str = strawberry.field(description="`whsec_<base64>`: the HMAC-SHA256 key is the base64-decoded part.")


@strawberry.input
class RotateWebhookSecretInput:
    webhook_id: strawberry.ID
    overlap_hours: int = strawberry.field(
        default=24, description="How long the previous secret keeps signing beside the new one (0 to 168)."
    )


@strawberry.type(description="The new secret; until `previousSecretExpiresAt` deliveries carry both signatures.")
class RotateWebhookSecretSuccess:
    webhook: Webhook
    secret: str


@strawberry.input
class DisableWebhookInput:
    webhook_id: strawberry.ID


@strawberry.type
class DisableWebhookSuccess:
    webhook: Webhook


@strawberry.input
class RedeliverWebhookInput:
    delivery_id: strawberry.ID


@strawberry.type(description="The delivery, PENDING again with a fresh schedule: it is sent within seconds.")
class RedeliverWebhookSuccess:
    delivery: WebhookDelivery


RegisterWebhookResult = Annotated[RegisterWebhookSuccess | MutationError, strawberry.union("RegisterWebhookResult")]
RotateWebhookSecretResult = Annotated[
    RotateWebhookSecretSuccess | MutationError, strawberry.union("RotateWebhookSecretResult")
]
DisableWebhookResult = Annotated[DisableWebhookSuccess | MutationError, strawberry.union("DisableWebhookResult")]
RedeliverWebhookResult = Annotated[RedeliverWebhookSuccess | MutationError, strawberry.union("RedeliverWebhookResult")]


def _check_regions(info: Info, regions: list[Region]) -> None:
    permissions = info.context.permissions
    for region in regions:
        if not permissions.allows(Permission.EVENTS_READ, region.value):
            raise DomainError.forbidden(f"you may not read events of region {region.value}", "regions")


def _check_types(types: list[str]) -> None:
    if len(types) > len(EVENT_TYPES):
        raise DomainError.invalid_input(f"at most {len(EVENT_TYPES)} event types", "eventTypes")


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(extensions=requires(Permission.WEBHOOKS_MANAGE))
    async def register_webhook(self, info: Info, input: RegisterWebhookInput) -> RegisterWebhookResult:
        async def command(uow: PostgresUnitOfWork, _: Actor) -> RegisterWebhookSuccess:
            _check_types(input.event_types)
            _check_regions(info, input.regions)
            cmd = services.RegisterWebhook(
                owner_id=_owner(info),
                url=input.url,
                event_types=tuple(input.event_types),
                regions=tuple(input.regions),
                description=input.description,
                require_https=info.context.settings.production,
            )
            endpoint = await services.register_webhook(uow, cmd)
            return RegisterWebhookSuccess(webhook=Webhook.from_entity(endpoint), secret=endpoint.secret)

        return await run(info, "registerWebhook", Permission.WEBHOOKS_MANAGE, command)

    @strawberry.mutation(extensions=requires(Permission.WEBHOOKS_MANAGE))
    async def rotate_webhook_secret(self, info: Info, input: RotateWebhookSecretInput) -> RotateWebhookSecretResult:
        async def command(uow: PostgresUnitOfWork, _: Actor) -> RotateWebhookSecretSuccess:
            webhook_id = parse_id(str(input.webhook_id), "Webhook", field="webhookId")
            if not 0 <= input.overlap_hours <= wh.MAX_OVERLAP_HOURS:
                raise DomainError.invalid_input(f"overlapHours is 0 to {wh.MAX_OVERLAP_HOURS}", "overlapHours")
            overlap = timedelta(hours=input.overlap_hours)
            endpoint, secret = await services.rotate_webhook_secret(uow, _owner(info), webhook_id, overlap)
            return RotateWebhookSecretSuccess(webhook=Webhook.from_entity(endpoint), secret=secret)

        return await run(info, "rotateWebhookSecret", Permission.WEBHOOKS_MANAGE, command)

    @strawberry.mutation(extensions=requires(Permission.WEBHOOKS_MANAGE))
    async def disable_webhook(self, info: Info, input: DisableWebhookInput) -> DisableWebhookResult:
        async def command(uow: PostgresUnitOfWork, _: Actor) -> DisableWebhookSuccess:
            webhook_id = parse_id(str(input.webhook_id), "Webhook", field="webhookId")
            endpoint = await services.disable_webhook(uow, _owner(info), webhook_id)
            return DisableWebhookSuccess(webhook=Webhook.from_entity(endpoint))

        return await run(info, "disableWebhook", Permission.WEBHOOKS_MANAGE, command)

    @strawberry.mutation(
        extensions=requires(Permission.WEBHOOKS_MANAGE),
        description="Send a delivery again (a DEAD one too), with the same `webhook-id`.",
    )
    async def redeliver_webhook(self, info: Info, input: RedeliverWebhookInput) -> RedeliverWebhookResult:
        async def command(uow: PostgresUnitOfWork, _: Actor) -> RedeliverWebhookSuccess:
            delivery_id = parse_id(str(input.delivery_id), "WebhookDelivery", field="deliveryId")
            delivery = await services.redeliver(uow, _owner(info), delivery_id)
            return RedeliverWebhookSuccess(delivery=WebhookDelivery.from_entity(delivery))

        return await run(info, "redeliverWebhook", Permission.WEBHOOKS_MANAGE, command)


__all__ = ["Event", "Webhook", "WebhookDelivery", "WebhookMutation", "WebhookQuery"]
