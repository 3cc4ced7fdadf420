"""Named lists that rules match against (keywords, domains, URLs): per region, up to ``ENTRIES_MAX`` entries,
every edit a new version (what it added and removed), audited. Rules name a list by its name; a list's kind is fixed
(the language checks a rule uses it with the matching function)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

from domain.errors import DomainError
from domain.region import Region
from domain.rules import ListKind

ENTRIES_MAX: Final = 1_000_000
EDIT_MAX: Final = 50_000
"""Entries one call may add or remove (a request body holds about that many); bigger lists grow over several."""
ENTRY_MAX: Final = 400
NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(kw_only=True)
class NamedList:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    name: str
    kind: ListKind
    current_version: int
    entry_count: int
    created_at: datetime
    updated_at: datetime
    version: int = 1


@dataclass(frozen=True)
class ListEdit:
    """What one version changed."""

    added: tuple[str, ...]
    removed: tuple[str, ...]


class ListStore(Protocol):
    async def get(self, list_id: uuid.UUID) -> NamedList | None: ...

    async def name_taken(self, region: Region, name: str) -> bool: ...

    async def current_entries(self, named: NamedList, values: Sequence[str]) -> set[str]:
        """Which of ``values`` the list holds now."""
        ...

    async def write(self, named: NamedList, edit: ListEdit, *, loaded_version: int | None, author_id: str) -> None:
        """Store the list (inserted when ``loaded_version`` is None) and its new version's entries."""
        ...


def _entries(values: Sequence[str], field_name: str) -> tuple[str, ...]:
    if len(values) > EDIT_MAX:
        raise DomainError.invalid_input(f"at most {EDIT_MAX} entries per call", field_name)
    cleaned: dict[str, None] = {}
    for index, value in enumerate(values):
        entry = value.strip()
        if not entry or len(entry) > ENTRY_MAX or "\x00" in entry:
            raise DomainError.invalid_input(
                f"an entry is 1 to {ENTRY_MAX} characters, not blank", f"{field_name}[{index}]"
            )
        cleaned[entry] = None
    return tuple(cleaned)


async def create_list(
    store: ListStore,
    *,
    region: Region,
    name: str,
    kind: ListKind,
    entries: Sequence[str],
    author_id: str,
    now: datetime,
) -> NamedList:
    if not NAME_RE.match(name):
        raise DomainError.invalid_input("a list name is 1-100 letters, digits, '_', '.', '-'", "name")
    added = _entries(entries, "entries")
    if await store.name_taken(region, name):
        raise DomainError.conflict(f"region {region.value} already has a list named {name!r}", "name")
    named = NamedList(
        region=region, name=name, kind=kind, current_version=1, entry_count=len(added), created_at=now, updated_at=now
    )
    await store.write(named, ListEdit(added, ()), loaded_version=None, author_id=author_id)
    return named


async def edit_list(
    store: ListStore,
    *,
    list_id: uuid.UUID,
    add: Sequence[str],
    remove: Sequence[str],
    author_id: str,
    now: datetime,
) -> tuple[NamedList, ListEdit]:
    """A new version: ``remove`` taken out, then ``add`` put in (entries already there or absent are ignored)."""
    named = await store.get(list_id)
    if named is None:
        raise DomainError.not_found("no such list", "listId")
    adding, removing = _entries(add, "add"), _entries(remove, "remove")
    if set(adding) & set(removing):
        raise DomainError.invalid_input("an entry cannot be added and removed at once", "add")
    present = await store.current_entries(named, adding + removing)
    edit = ListEdit(tuple(v for v in adding if v not in present), tuple(v for v in removing if v in present))
    count = named.entry_count + len(edit.added) - len(edit.removed)
    if count > ENTRIES_MAX:
        raise DomainError.invalid_input(f"a list holds at most {ENTRIES_MAX} entries", "add")
    loaded = named.version
    named.current_version += 1
    named.entry_count = count
    named.updated_at = now
    named.version = loaded + 1
    await store.write(named, edit, loaded_version=loaded, author_id=author_id)
    return named, edit
