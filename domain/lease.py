"""A lease: the exclusive, expiring claim of one worker on a case or an appeal.

While it is live (``expires_at`` in the future) only its ``holder`` may work the record; an expired lease is free
without any background job. Cases and appeals store it as two columns (``assignee_id``, ``lease_expires_at``) and
read and write it as this value (``Leased``). The SQL side of "free" is ``persistence.operations.lease_is_free``,
held to ``Lease.is_free`` by a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import DomainError


@dataclass(frozen=True)
class Lease:
    holder: str | None = None
    expires_at: datetime | None = None

    def is_free(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at <= now

    def held_by(self, worker_id: str, now: datetime) -> bool:
        return self.holder == worker_id and not self.is_free(now)

    def held_by_other(self, worker_id: str, now: datetime) -> bool:
        return self.holder is not None and self.holder != worker_id and not self.is_free(now)

    @staticmethod
    def taken(worker_id: str, duration: timedelta, now: datetime) -> Lease:
        """Taken (or renewed) by ``worker_id`` for ``duration`` from ``now``."""
        return Lease(worker_id, now + duration)

    def ended(self) -> Lease:
        """No longer live, the last holder kept (who decided it)."""
        return Lease(self.holder, None)


class Leased:
    """A record worked under a lease, stored as ``assignee_id`` and ``lease_expires_at``."""

    assignee_id: str | None
    lease_expires_at: datetime | None

    @property
    def lease(self) -> Lease:
        return Lease(self.assignee_id, self.lease_expires_at)

    @lease.setter
    def lease(self, lease: Lease) -> None:
        self.assignee_id, self.lease_expires_at = lease.holder, lease.expires_at

    def held_by_other(self, worker_id: str, now: datetime) -> bool:
        return self.lease.held_by_other(worker_id, now)

    def ensure_held_by(self, worker_id: str, now: datetime, *, what: str, field: str) -> None:
        if not self.lease.held_by(worker_id, now):
            raise DomainError.conflict(f"you do not hold a lease on this {what}", field)
