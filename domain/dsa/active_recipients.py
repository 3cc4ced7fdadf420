"""Average monthly active recipients (EU DSA art. 24(2)): Vigil cannot count the platform's users, so the platform
states each month's figure per Member State (``recordActiveRecipients``); recording a month and Member State
again corrects it. The transparency report averages the months of its period.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from domain import limits
from domain.dsa.authority_order import ORDER_REGIONS
from domain.dsa.vocabulary import Country
from domain.errors import DomainError
from domain.region import Region

RECIPIENTS_MAX: Final = 10**9


def month_start(year: int, month: int) -> datetime:
    limits.int_range(year, field="year", low=2020, high=2100)
    limits.int_range(month, field="month", low=1, high=12)
    return datetime(year, month, 1, tzinfo=UTC)


@dataclass(kw_only=True)
class ActiveRecipients:
    """One month's figure for one Member State, unique by (region, month, member state); ``month`` is the
    month's first day (00:00 UTC)."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    month: datetime
    member_state: Country
    recipients: int
    recorded_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def record(
        cls, *, region: Region, month: datetime, member_state: Country, recipients: int, recorded_by: str,
        now: datetime,
    ) -> ActiveRecipients:  # fmt: skip
        if region not in ORDER_REGIONS:
            raise DomainError.invalid_input("active recipients are recorded for the EU", "region")
        if month > now:
            raise DomainError.invalid_input("the month has not begun", "month")
        limits.int_range(recipients, field="recipients", low=0, high=RECIPIENTS_MAX)
        return cls(
            region=region,
            month=month,
            member_state=member_state,
            recipients=recipients,
            recorded_by=recorded_by,
            created_at=now,
            updated_at=now,
        )

    def correct(self, recipients: int, recorded_by: str, now: datetime) -> None:
        limits.int_range(recipients, field="recipients", low=0, high=RECIPIENTS_MAX)
        self.recipients, self.recorded_by, self.updated_at = recipients, recorded_by, now
