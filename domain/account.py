"""Account aggregate: a user, creator, advertiser or publisher on the platform."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.region import Region


class AccountKind(StrEnum):
    USER = "USER"
    CREATOR = "CREATOR"
    ADVERTISER = "ADVERTISER"
    PUBLISHER = "PUBLISHER"


class AccountStatus(StrEnum):
    """Ordered by severity. Derived from enforcement actions in force (see ``domain.status``)."""

    ACTIVE = "ACTIVE"
    RESTRICTED = "RESTRICTED"
    SUSPENDED = "SUSPENDED"
    BANNED = "BANNED"


@dataclass(kw_only=True)
class Account:
    """``external_id`` is the platform's id, unique per region. ``email``, ``phone``, ``last_ip`` are PII.

    ``status`` / ``status_until`` are only ever written by enforcement (derived from the actions in force);
    ``status_until`` is ``None`` for ACTIVE and for permanent statuses.
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    external_id: str
    kind: AccountKind
    handle: str
    display_name: str
    email: str | None = None
    phone: str | None = None
    last_ip: str | None = None
    language: str | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    status_until: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def update_profile(
        self,
        *,
        kind: AccountKind,
        handle: str,
        display_name: str,
        email: str | None,
        phone: str | None,
        last_ip: str | None,
        language: str | None,
        now: datetime,
    ) -> bool:
        """Overwrite the descriptive fields; returns whether anything changed."""
        new = (kind, handle, display_name, email, phone, last_ip, language)
        old = (self.kind, self.handle, self.display_name, self.email, self.phone, self.last_ip, self.language)
        if new == old:
            return False
        self.kind, self.handle, self.display_name, self.email, self.phone, self.last_ip, self.language = new
        self.updated_at = now
        return True

    def status_now(self, now: datetime) -> AccountStatus:
        """The stored status while it lasts; ACTIVE once its ``status_until`` has passed (no job ends it)."""
        if self.status_until is not None and self.status_until <= now:
            return AccountStatus.ACTIVE
        return self.status

    def set_status(self, status: AccountStatus, until: datetime | None, now: datetime) -> bool:
        """Store the derived status; returns whether it changed."""
        if (self.status, self.status_until) == (status, until):
            return False
        self.status, self.status_until, self.updated_at = status, until, now
        return True
