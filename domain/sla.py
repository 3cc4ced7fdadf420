"""Service-level targets: how long a case may wait for a decision, by priority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class SlaTable:
    """``bands`` are (minimum priority, hours), highest minimum first; the first band that fits applies."""

    bands: tuple[tuple[int, int], ...] = ((80, 4), (50, 12), (20, 24), (0, 48))

    def hours_for(self, priority: int) -> int:
        for minimum, hours in self.bands:
            if priority >= minimum:
                return hours
        return self.bands[-1][1]

    def due_at(self, opened_at: datetime, priority: int) -> datetime:
        return opened_at + timedelta(hours=self.hours_for(priority))


DEFAULT_SLA = SlaTable()
