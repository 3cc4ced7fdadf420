"""Named lists (keyword, domain, URL) and the index that matches all of a rule set's lists in one pass per field.

STUB: interface only; implementation follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.rules.catalogue import ListKind

MAX_ENTRIES = 1_000_000


@dataclass(frozen=True)
class ListSnapshot:
    """One version of a named list, as stored. Entries are raw text; the index normalises them."""

    name: str
    kind: ListKind
    version: int
    entries: Sequence[str]


class ListIndex:
    """Every list a rule set uses, compiled for matching: one Aho-Corasick automaton over all keyword lists (a
    text is scanned once and yields the ids of the lists it hits), one host table over all domain lists, one URL
    table over all URL lists. Build it once per change of any list and share it between rule sets."""

    def __init__(self, snapshots: Iterable[ListSnapshot]) -> None:
        raise NotImplementedError

    def versions(self) -> dict[str, int]:
        """List name -> version bound in this index."""
        raise NotImplementedError
