"""Values worked out from a parsed document (its validation errors, its cost), kept per document object."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from graphql import DocumentNode

T = TypeVar("T")


class DocumentCache(Generic[T]):
    """Values worked out from a parsed document, found by the document's identity: the parser cache hands back
    the same object for the same query text, and hashing a document (a frozen dataclass) walks every node of it
    on every look-up. Holds up to ``size`` documents, least recently used out, each kept alive while it is held
    (so its ``id`` cannot be reused), and up to ``per_document`` values for each. One event loop per process
    uses it: nothing awaits inside."""

    def __init__(self, size: int = 256, per_document: int = 64) -> None:
        self._entries: OrderedDict[int, tuple[DocumentNode, dict[Hashable, T]]] = OrderedDict()
        self._size, self._per_document = size, per_document
        self.hits = self.misses = 0

    def get(self, document: DocumentNode, key: Hashable, compute: Callable[[], T]) -> T:
        entry = self._entries.get(id(document))
        if entry is None or entry[0] is not document:
            entry = self._entries[id(document)] = (document, {})
            self._entries.move_to_end(id(document))
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(id(document))
        values = entry[1]
        if key in values:
            self.hits += 1
            return values[key]
        self.misses += 1
        if len(values) >= self._per_document:
            values.clear()
        value = values[key] = compute()
        return value
