"""A bounded least-recently-used cache of compiled plans (and of what each document's plans depend on)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

PLAN_CACHE_SIZE = 512
"""Plans kept per process: a plan is one (document, operation, ``@skip``/``@include`` values); the console ships
a few dozen. A very large document's plan is about as big as graphql-core's own per-request structures."""


class LRU:
    """At most ``size`` entries; the least recently used goes first."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        if size < 1:
            raise ValueError("a plan cache holds at least one entry")
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return entry

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
