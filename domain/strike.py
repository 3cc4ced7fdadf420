"""Strike aggregate: a mark on an account from a violating decision."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.policy import PolicyVersion, Severity
from domain.region import Region
from domain.subject import Surface


class StrikeStatus(StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"  # never stored: computed from the clock by ``status_at``
    REVERSED = "REVERSED"


@dataclass(kw_only=True)
class Strike:
    """Stored ``status`` is ACTIVE or REVERSED only; expiry is computed (``is_active(now)``), no job flips it.

    ``surface`` and ``severity`` are copied from the cited policy / version: the ladder groups strikes by
    surface and a SEVERE strike bans at once.
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    account_id: uuid.UUID
    policy_id: uuid.UUID
    policy_version_id: uuid.UUID
    decision_id: uuid.UUID
    surface: Surface
    severity: Severity
    weight: int
    issued_at: datetime
    expires_at: datetime
    status: StrikeStatus = StrikeStatus.ACTIVE
    reversed_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def issue(
        cls,
        *,
        region: Region,
        account_id: uuid.UUID,
        decision_id: uuid.UUID,
        surface: Surface,
        version: PolicyVersion,
        now: datetime,
    ) -> Strike:
        return cls(
            region=region,
            account_id=account_id,
            policy_id=version.policy_id,
            policy_version_id=version.id,
            decision_id=decision_id,
            surface=surface,
            severity=version.severity,
            weight=version.strike_weight,
            issued_at=now,
            expires_at=now + version.strike_ttl,
            created_at=now,
            updated_at=now,
        )

    def is_active(self, now: datetime) -> bool:
        return self.status is not StrikeStatus.REVERSED and self.issued_at <= now < self.expires_at

    def status_at(self, now: datetime) -> StrikeStatus:
        if self.status is StrikeStatus.REVERSED:
            return StrikeStatus.REVERSED
        return StrikeStatus.ACTIVE if self.is_active(now) else StrikeStatus.EXPIRED

    def reverse(self, now: datetime) -> bool:
        if self.status is StrikeStatus.REVERSED:
            return False
        self.status, self.reversed_at, self.updated_at = StrikeStatus.REVERSED, now, now
        return True
