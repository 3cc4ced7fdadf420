"""In-memory implementations of the ports, for tests and the benchmark: a ``Snapshot`` of prefetched facts and
counters (a ``FactSource``) and a ``MemoryCounterStore`` (a ``CounterStore``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.rules.ports import CounterKey, CounterRecord, EntityFacts


@dataclass
class Snapshot:
    """Facts by (kind, id) and counter values by key, as a caller would prefetch them."""

    entities: Mapping[tuple[str, str], EntityFacts] = field(default_factory=dict)
    counters: Mapping[CounterKey, int] = field(default_factory=dict)

    def entity(self, kind: str, entity_id: str) -> EntityFacts | None:
        return self.entities.get((kind, entity_id))

    def counter(self, key: CounterKey) -> int:
        return self.counters.get(key, 0)


class MemoryCounterStore:
    """Sliding-window counters in a dict: (source, kind, id) -> member -> latest time recorded."""

    def __init__(self) -> None:
        self._members: dict[tuple[str, str, str], dict[str, datetime]] = {}

    async def record(self, records: Iterable[CounterRecord]) -> None:
        for record in records:
            members = self._members.setdefault((record.source, record.entity_kind, record.entity_id), {})
            previous = members.get(record.member)
            if previous is None or previous < record.at:
                members[record.member] = record.at

    async def read(self, keys: Iterable[CounterKey], now: datetime) -> Mapping[CounterKey, int]:
        values: dict[CounterKey, int] = {}
        for key in keys:
            start = now - timedelta(seconds=key.window_seconds)
            members = self._members.get((key.source, key.entity_kind, key.entity_id), {})
            values[key] = sum(1 for at in members.values() if start < at <= now)
        return values
