"""Webhook endpoints and deliveries: what a partner does to its own endpoints (each change audited).

An endpoint is its owner's and a regional resource: a caller reaches it only when it is the owner and holds every
region the endpoint names (``WebhookCaller.regions``); any other endpoint, and its deliveries, do not exist for
it (NOT_FOUND). In production a URL must lead to the public internet: its name is resolved through the
``Resolver`` port at registration (and again at every delivery, by the dispatcher).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.clock import Clock
from domain.errors import DomainError
from domain.outbox.webhook import DEFAULT_OVERLAP, WebhookDelivery, WebhookEndpoint
from domain.outbox.webhook_address import Resolver, checked_addresses, parse_url
from domain.region import Region


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


class PendingDeliveries(Protocol):
    """The pending deliveries of an endpoint, changed together (one audited write)."""

    async def retry_now(self, endpoint: WebhookEndpoint, now: datetime) -> int:
        """Make every PENDING delivery of ``endpoint`` not being sent right now due at ``now``, with a fresh
        schedule; how many."""
        ...


@dataclass(frozen=True)
class WebhookCaller:
    """Who acts on endpoints: the owner it acts as, and the regions where it manages webhooks (None: all)."""

    owner_id: str
    regions: frozenset[str] | None


@dataclass(frozen=True)
class RegisterWebhook:
    owner_id: str
    url: str
    event_types: tuple[str, ...]
    regions: tuple[Region, ...]
    description: str = ""
    require_https: bool = True
    """Production: https only, and the URL's addresses (resolved now) must all be on the public internet."""


async def register_webhook(uow: WebhookUnitOfWork, cmd: RegisterWebhook, resolver: Resolver) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.register(
        owner_id=cmd.owner_id,
        url=cmd.url,
        event_types=cmd.event_types,
        regions=cmd.regions,
        description=cmd.description,
        now=uow.clock.now(),
        require_https=cmd.require_https,
    )
    if cmd.require_https:
        await checked_addresses(parse_url(cmd.url, strict=True), resolver, strict=True)
    uow.webhooks.add(endpoint)
    return endpoint


async def visible_webhook(uow: WebhookUnitOfWork, caller: WebhookCaller, webhook_id: uuid.UUID) -> WebhookEndpoint:
    """The caller's own endpoint within its regions; any other does not exist for it."""
    endpoint = await uow.webhooks.get(webhook_id)
    if endpoint is None:
        raise DomainError.not_found("webhook not found", "webhookId")
    endpoint.ensure_visible_to(caller.owner_id, caller.regions)
    return endpoint


async def rotate_webhook_secret(
    uow: WebhookUnitOfWork, caller: WebhookCaller, webhook_id: uuid.UUID, overlap: timedelta = DEFAULT_OVERLAP
) -> tuple[WebhookEndpoint, str]:
    endpoint = await visible_webhook(uow, caller, webhook_id)
    return endpoint, endpoint.rotate_secret(uow.clock.now(), overlap)


async def disable_webhook(uow: WebhookUnitOfWork, caller: WebhookCaller, webhook_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await visible_webhook(uow, caller, webhook_id)
    endpoint.disable(uow.clock.now())
    return endpoint


async def redeliver(uow: WebhookUnitOfWork, caller: WebhookCaller, delivery_id: uuid.UUID) -> WebhookDelivery:
    delivery = await uow.webhook_deliveries.get(delivery_id)
    if delivery is None:
        raise DomainError.not_found("delivery not found", "deliveryId")
    endpoint = await uow.webhooks.get(delivery.endpoint_id)
    if endpoint is None or not endpoint.visible_to(caller.owner_id, caller.regions):
        raise DomainError.not_found("delivery not found", "deliveryId")
    if not endpoint.enabled:
        raise DomainError.invalid_state("the webhook is disabled", "deliveryId")
    delivery.redeliver(uow.clock.now())
    return delivery


async def retry_deliveries(
    uow: WebhookUnitOfWork, caller: WebhookCaller, webhook_id: uuid.UUID, pending: PendingDeliveries
) -> tuple[WebhookEndpoint, int]:
    """The endpoint is back: send what is pending for it now rather than at its backoff."""
    endpoint = await visible_webhook(uow, caller, webhook_id)
    if not endpoint.enabled:
        raise DomainError.invalid_state("the webhook is disabled: nothing is sent to it", "webhookId")
    return endpoint, await pending.retry_now(endpoint, uow.clock.now())
