"""Webhook endpoints and deliveries: what a partner does to its own endpoints (each change audited)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from domain.clock import Clock
from domain.errors import DomainError
from domain.region import Region
from domain.webhook import DEFAULT_OVERLAP, WebhookDelivery, WebhookEndpoint


class _Endpoints(Protocol):
    async def get(self, id: uuid.UUID) -> WebhookEndpoint | None: ...
    def add(self, endpoint: WebhookEndpoint) -> None: ...


class _Deliveries(Protocol):
    async def get(self, id: uuid.UUID) -> WebhookDelivery | None: ...


class WebhookUnitOfWork(Protocol):
    @property
    def webhooks(self) -> _Endpoints: ...
    @property
    def webhook_deliveries(self) -> _Deliveries: ...
    @property
    def clock(self) -> Clock: ...


@dataclass(frozen=True)
class RegisterWebhook:
    owner_id: str
    url: str
    event_types: tuple[str, ...]
    regions: tuple[Region, ...]
    description: str = ""
    require_https: bool = True


async def register_webhook(uow: WebhookUnitOfWork, cmd: RegisterWebhook) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.register(
        owner_id=cmd.owner_id,
        url=cmd.url,
        event_types=cmd.event_types,
        regions=cmd.regions,
        description=cmd.description,
        now=uow.clock.now(),
        require_https=cmd.require_https,
    )
    uow.webhooks.add(endpoint)
    return endpoint


async def owned_webhook(uow: WebhookUnitOfWork, owner_id: str, webhook_id: uuid.UUID) -> WebhookEndpoint:
    """The caller's own endpoint; another's does not exist for it."""
    endpoint = await uow.webhooks.get(webhook_id)
    if endpoint is None:
        raise DomainError.not_found("webhook not found", "webhookId")
    endpoint.ensure_owned_by(owner_id)
    return endpoint


async def rotate_webhook_secret(
    uow: WebhookUnitOfWork, owner_id: str, webhook_id: uuid.UUID, overlap: timedelta = DEFAULT_OVERLAP
) -> tuple[WebhookEndpoint, str]:
    endpoint = await owned_webhook(uow, owner_id, webhook_id)
    return endpoint, endpoint.rotate_secret(uow.clock.now(), overlap)


async def disable_webhook(uow: WebhookUnitOfWork, owner_id: str, webhook_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await owned_webhook(uow, owner_id, webhook_id)
    endpoint.disable(uow.clock.now())
    return endpoint


async def redeliver(uow: WebhookUnitOfWork, owner_id: str, delivery_id: uuid.UUID) -> WebhookDelivery:
    delivery = await uow.webhook_deliveries.get(delivery_id)
    if delivery is None:
        raise DomainError.not_found("delivery not found", "deliveryId")
    endpoint = await uow.webhooks.get(delivery.endpoint_id)
    if endpoint is None or endpoint.owner_id != owner_id:
        raise DomainError.not_found("delivery not found", "deliveryId")
    if not endpoint.enabled:
        raise DomainError.invalid_state("the webhook is disabled", "deliveryId")
    delivery.redeliver(uow.clock.now())
    return delivery
