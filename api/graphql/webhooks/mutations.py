"""Webhooks' mutations: register, rotate a secret, disable, redeliver, retry what is pending.

Each acts on an endpoint the caller sees (its owner's, every region of it held with `webhooks:manage`; any other
is NOT_FOUND) and is audited in the transaction of its change."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.ids import parse_id
from api.graphql.permissions import requires
from api.graphql.runner import run
from api.graphql.shared.common import MutationError
from api.graphql.webhooks.types import Webhook, WebhookDelivery, caller_of, owner_of
from api.services import webhook_transport
from authz.permissions import Permission
from domain.actor import Actor
from domain.errors import DomainError
from domain.outbox import webhook as wh
from domain.outbox.events import EVENT_TYPES
from domain.outbox.services import webhooks as services
from domain.region import Region
from persistence.dispatch import SqlPendingDeliveries
from persistence.repositories import PostgresUnitOfWork


@strawberry.input(description="An endpoint: where to send which event types of which regions.")
class RegisterWebhookInput:
    url: str = strawberry.field(
        description="Absolute https:// URL on the public internet (outside production: http:// and local hosts too)."
    )
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


@strawberry.input
class RetryWebhookDeliveriesInput:
    webhook_id: strawberry.ID


@strawberry.type(description="The endpoint's pending deliveries are due now, each with a fresh schedule.")
class RetryWebhookDeliveriesSuccess:
    webhook: Webhook
    retried: int = strawberry.field(description="How many pending deliveries were made due (those in flight aside).")


RetryWebhookDeliveriesResult = Annotated[
    RetryWebhookDeliveriesSuccess | MutationError, strawberry.union("RetryWebhookDeliveriesResult")
]


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
        if not permissions.allows(Permission.WEBHOOKS_MANAGE, region.value):
            raise DomainError.forbidden(f"you may not manage webhooks of region {region.value}", "regions")


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
                owner_id=owner_of(info),
                url=input.url,
                event_types=tuple(input.event_types),
                regions=tuple(input.regions),
                description=input.description,
                require_https=info.context.settings.production,
            )
            endpoint = await services.register_webhook(uow, cmd, webhook_transport.RESOLVER)
            return RegisterWebhookSuccess(webhook=Webhook.from_entity(endpoint), secret=endpoint.secret)

        return await run(info, "registerWebhook", Permission.WEBHOOKS_MANAGE, command)

    @strawberry.mutation(extensions=requires(Permission.WEBHOOKS_MANAGE))
    async def rotate_webhook_secret(self, info: Info, input: RotateWebhookSecretInput) -> RotateWebhookSecretResult:
        async def command(uow: PostgresUnitOfWork, _: Actor) -> RotateWebhookSecretSuccess:
            webhook_id = parse_id(str(input.webhook_id), "Webhook", field="webhookId")
            if not 0 <= input.overlap_hours <= wh.MAX_OVERLAP_HOURS:
                raise DomainError.invalid_input(f"overlapHours is 0 to {wh.MAX_OVERLAP_HOURS}", "overlapHours")
            overlap = timedelta(hours=input.overlap_hours)
            endpoint, secret = await services.rotate_webhook_secret(uow, caller_of(info), webhook_id, overlap)
            return RotateWebhookSecretSuccess(webhook=Webhook.from_entity(endpoint), secret=secret)

        return await run(info, "rotateWebhookSecret", Permission.WEBHOOKS_MANAGE, command)

    @strawberry.mutation(extensions=requires(Permission.WEBHOOKS_MANAGE))
    async def disable_webhook(self, info: Info, input: DisableWebhookInput) -> DisableWebhookResult:
        async def command(uow: PostgresUnitOfWork, _: Actor) -> DisableWebhookSuccess:
            webhook_id = parse_id(str(input.webhook_id), "Webhook", field="webhookId")
            endpoint = await services.disable_webhook(uow, caller_of(info), webhook_id)
            return DisableWebhookSuccess(webhook=Webhook.from_entity(endpoint))

        return await run(info, "disableWebhook", Permission.WEBHOOKS_MANAGE, command)

    @strawberry.mutation(
        extensions=requires(Permission.WEBHOOKS_MANAGE),
        description="Send a delivery again (a DEAD one too), with the same `webhook-id`.",
    )
    async def redeliver_webhook(self, info: Info, input: RedeliverWebhookInput) -> RedeliverWebhookResult:
        async def command(uow: PostgresUnitOfWork, _: Actor) -> RedeliverWebhookSuccess:
            delivery_id = parse_id(str(input.delivery_id), "WebhookDelivery", field="deliveryId")
            delivery = await services.redeliver(uow, caller_of(info), delivery_id)
            return RedeliverWebhookSuccess(delivery=WebhookDelivery.from_entity(delivery))

        return await run(info, "redeliverWebhook", Permission.WEBHOOKS_MANAGE, command)

    @strawberry.mutation(
        extensions=requires(Permission.WEBHOOKS_MANAGE),
        description="The endpoint is back: send its pending deliveries now instead of at their backoff.",
    )
    async def retry_webhook_deliveries(
        self, info: Info, input: RetryWebhookDeliveriesInput
    ) -> RetryWebhookDeliveriesResult:
        async def command(uow: PostgresUnitOfWork, _: Actor) -> RetryWebhookDeliveriesSuccess:
            webhook_id = parse_id(str(input.webhook_id), "Webhook", field="webhookId")
            pending = SqlPendingDeliveries(uow)
            endpoint, retried = await services.retry_deliveries(uow, caller_of(info), webhook_id, pending)
            return RetryWebhookDeliveriesSuccess(webhook=Webhook.from_entity(endpoint), retried=retried)

        return await run(info, "retryWebhookDeliveries", Permission.WEBHOOKS_MANAGE, command)
