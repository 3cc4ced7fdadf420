"""Webhook endpoints and deliveries: who hears which events, and the rules of trying to tell them.

An endpoint belongs to the principal that registered it (a partner token's principal) and names the event
types and regions it wants. Its secret (``whsec_<base64>``, Standard Webhooks) signs every delivery; rotating it
keeps the previous one valid for an overlap during which both signatures are sent. A delivery is one event for
one endpoint: tried until the endpoint answers 2xx, with exponential backoff and jitter for more than a day,
then DEAD (dead-lettered) until someone redelivers it by hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain import limits
from domain.errors import DomainError
from domain.outbox.events import EVENT_TYPES
from domain.outbox.webhook_address import parse_url
from domain.region import Region

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP_HOURS = 24 * 7
URL_MAX = 2000

# Attempt n (1-based) failed: the next one waits RETRY_BASE * 4^(n-1), capped, times a jitter in [0.8, 1.2).
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=12)
MAX_ATTEMPTS = 9  # 1 + 8 retries: at least ~28 hours from the first try even with the lowest jitter
JITTER = (0.8, 1.2)


class DeliveryState(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` (Standard Webhooks)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode()


def retry_delay(attempts: int, jitter: float) -> timedelta:
    """How long to wait after the ``attempts``-th failed try; ``jitter`` in ``JITTER``."""
    base: timedelta = min(RETRY_BASE * (4 ** (attempts - 1)), RETRY_CAP)
    return base * jitter


@dataclass(kw_only=True)
class WebhookEndpoint:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    owner_id: str
    url: str
    description: str = ""
    event_types: tuple[str, ...]
    regions: tuple[Region, ...]
    secret: str
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    disabled_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def register(
        cls,
        *,
        owner_id: str,
        url: str,
        event_types: tuple[str, ...],
        regions: tuple[Region, ...],
        description: str,
        now: datetime,
        require_https: bool,
    ) -> WebhookEndpoint:
        _validate_url(url, require_https)
        limits.optional_text(description or None, field="description", max_len=limits.TEXT_MAX)
        if not event_types:
            raise DomainError.invalid_input("name at least one event type", "eventTypes")
        unknown = sorted(set(event_types) - set(EVENT_TYPES))
        if unknown:
            raise DomainError.invalid_input(f"unknown event type {unknown[0][:40]!r}", "eventTypes")
        if not regions:
            raise DomainError.invalid_input("name at least one region", "regions")
        return cls(
            owner_id=owner_id,
            url=url,
            description=description,
            event_types=tuple(sorted(set(event_types))),
            regions=tuple(sorted(set(regions), key=lambda r: r.value)),
            secret=new_secret(),
            created_at=now,
            updated_at=now,
        )

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    def visible_to(self, principal_id: str, regions: frozenset[str] | None) -> bool:
        """Its owner sees it when holding every one of its regions (``regions`` None: all): an endpoint is a
        regional resource, and a token of one region neither reads nor manages another region's."""
        held = regions is None or all(str(getattr(r, "value", r)) in regions for r in self.regions)
        return self.owner_id == principal_id and held

    def ensure_visible_to(self, principal_id: str, regions: frozenset[str] | None) -> None:
        if not self.visible_to(principal_id, regions):
            raise DomainError.not_found("webhook not found", "webhookId")

    def rotate_secret(self, now: datetime, overlap: timedelta = DEFAULT_OVERLAP) -> str:
        """A new secret; the current one keeps signing (beside the new) until ``now + overlap``."""
        if overlap < timedelta(0) or overlap > timedelta(hours=MAX_OVERLAP_HOURS):
            raise DomainError.invalid_input(f"overlap is 0 to {MAX_OVERLAP_HOURS} hours", "overlapHours")
        self.previous_secret, self.previous_secret_expires_at = self.secret, now + overlap
        self.secret, self.updated_at = new_secret(), now
        return self.secret

    def disable(self, now: datetime) -> None:
        if self.disabled_at is not None:
            raise DomainError.invalid_state("webhook is already disabled", "webhookId")
        self.disabled_at, self.updated_at = now, now

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery sent at ``now`` is signed with: the current one, and the previous one during
        its overlap."""
        expires = self.previous_secret_expires_at
        if self.previous_secret is not None and expires is not None and now < expires:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def signature_header(self, message_id: str, timestamp: int, body: bytes, now: datetime) -> str:
        return " ".join(signature(s, message_id, timestamp, body) for s in self.signing_secrets(now))


def _validate_url(url: str, strict: bool) -> None:
    """The URL parses (see ``domain.outbox.webhook_address``); ``strict`` (production): https, and no IP literal or name
    outside the public internet (what a name resolves to is checked by the service, and at every delivery)."""
    limits.text(url, field="url", max_len=URL_MAX)
    parse_url(url, strict=strict)


@dataclass(kw_only=True)
class WebhookDelivery:
    """One event for one endpoint. ``region`` is the event's. The dispatcher leases a PENDING delivery
    (``lease_expires_at``) while it sends it, so no two dispatchers send it at once."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime
    lease_expires_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def redeliver(self, now: datetime) -> None:
        """Try again now, with a fresh schedule (a dead-lettered or delivered one too)."""
        if self.state is DeliveryState.PENDING and self.attempts == 0:
            raise DomainError.invalid_state("delivery has not been tried yet", "deliveryId")
        self.state, self.attempts, self.next_attempt_at = DeliveryState.PENDING, 0, now
        self.lease_expires_at, self.updated_at = None, now
