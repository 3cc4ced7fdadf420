"""The change set of a unit of work, the same for every engine: tracked entities, their snapshots, the diff, the
version guard, and the audit and outbox events of the changes.

An engine only loads rows (``loaded``, ``added``) and writes what the change set hands it: the SQL unit of work
(``persistence.uow``) with one statement per table, as often as its queries need to see the changes; the
prefetching ones (``persistence.fast.prefetched``) in one statement at commit. The rules it keeps (ARCHITECTURE.md):

* an update is guarded by the version the row has in the database now (``guard``) and bumps it once per unit of
  work (a row the unit of work inserted keeps its first version);
* one audit event per entity inserted or changed in the unit of work (an insert shows the entity as left; an
  update, the changed columns as found and as left), however many writes it took;
* every audit and outbox event of a unit of work carries one instant, the commit's (``settle(now)``).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.outbox.events import DomainEvent, events_of
from persistence.audit import AuditRecord
from persistence.mapping import EntityMapping
from persistence.metadata import metadata


@dataclass(frozen=True)
class AuditContext:
    """Who is acting, in which request, doing what (the operation names the audit events' action)."""

    actor_kind: str
    actor_id: str
    operation: str
    request_id: str | None = None
    reason: str | None = None


class Audited(Protocol):
    """What an audit event's subject is: its ``kind`` and the view of its values an event may show.
    ``EntityMapping`` is one; ``RecordKind`` names records written outside the entity mappings."""

    @property
    def kind(self) -> str: ...

    def audit_view(self, values: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RecordKind:
    """A kind of record whose writes a unit of work audits by hand (``SqlUnitOfWork.record``): principals, tokens,
    refused mutations. Its events show the values given, as given."""

    kind: str

    def audit_view(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return dict(values)


@dataclass(frozen=True)
class Subject:
    """The subject of a hand-audited write: its id and its data region (None: no region in particular)."""

    id: Any
    region: str | None = None


def audit_record(
    audit: AuditContext,
    now: datetime,
    mapping: Audited,
    entity: Any,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> AuditRecord:
    """The audit event of one inserted (``before`` None) or changed entity, or of a hand-audited write: every
    audit record is built here (the SQL and prefetching units of work, principals and tokens, refusals)."""
    region = getattr(entity, "region", None)
    return AuditRecord(
        occurred_at=now,
        actor_kind=audit.actor_kind,
        actor_id=audit.actor_id,
        action=audit.operation,
        subject_kind=mapping.kind,
        subject_id=str(entity.id),
        region=getattr(region, "value", region),
        request_id=audit.request_id,
        reason=audit.reason,
        before=mapping.audit_view(before) if before is not None else None,
        after=mapping.audit_view(after) if after is not None else None,
    )


@dataclass
class Tracked:
    mapping: EntityMapping[Any]
    entity: Any
    written: dict[str, Any] | None  # the row as the database has it now (loaded or last written); None: not yet
    base: dict[str, Any] | None  # the row as the unit of work found it; None: new in it


@dataclass(frozen=True)
class Update:
    """One row to update: the ``columns`` that changed since it was written, ``guard`` the version it has in the
    database now, ``version`` the one to write."""

    item: Tracked
    columns: dict[str, Any]
    guard: int
    version: int


class ChangeSet:
    def __init__(self) -> None:
        self._tracked: dict[tuple[str, uuid.UUID], Tracked] = {}

    def __len__(self) -> int:
        return len(self._tracked)

    def get(self, mapping: EntityMapping[Any], entity_id: uuid.UUID) -> Any | None:
        hit = self._tracked.get((mapping.table.name, entity_id))
        return hit.entity if hit is not None else None

    def loaded(self, mapping: EntityMapping[Any], entity: Any) -> Any:
        """Track a loaded entity; the instance already tracked for its row, if any (an identity map)."""
        key = (mapping.table.name, entity.id)
        hit = self._tracked.get(key)
        if hit is not None:
            return hit.entity
        snapshot = mapping.snapshot(entity)
        self._tracked[key] = Tracked(mapping, entity, snapshot, snapshot)
        return entity

    def added(self, mapping: EntityMapping[Any], entity: Any) -> None:
        key = (mapping.table.name, entity.id)
        if key in self._tracked:
            raise ValueError(f"{mapping.kind} {entity.id} is already in this unit of work")
        self._tracked[key] = Tracked(mapping, entity, None, None)

    def new(self) -> list[Tracked]:
        """Entities not inserted yet, in foreign-key order of their tables."""
        order = _table_order()
        pending = (t for t in self._tracked.values() if t.written is None)
        return sorted(pending, key=lambda t: order[t.mapping.table.name])

    def updates(self) -> Iterator[Update]:
        """Rows written or loaded before whose entity changed since (in tracking order)."""
        for item in self._tracked.values():
            if item.written is None:
                continue
            columns = changed_columns(item.mapping, item.entity, item.written)
            if not columns:
                continue
            guard = item.written["version"]
            bump = item.base is not None and guard == item.base["version"]
            yield Update(item, columns, guard, guard + 1 if bump else guard)

    @staticmethod
    def written(item: Tracked) -> None:
        """The entity's row now holds its current state (after an insert or an update of it)."""
        item.written = item.mapping.snapshot(item.entity)

    def settle(self, audit: AuditContext, now: datetime) -> tuple[list[AuditRecord], list[DomainEvent]]:
        """The audit records and outbox events of everything changed since the unit of work found it, at ``now``;
        what it leaves becomes the new baseline (call once everything is written)."""
        records: list[AuditRecord] = []
        events: list[DomainEvent] = []
        for item in self._tracked.values():
            current = item.mapping.snapshot(item.entity)
            if item.base is None:
                before: dict[str, Any] | None = None
                after: Mapping[str, Any] = current
            else:
                after = changed_columns(item.mapping, item.entity, item.base)
                if not after:
                    continue
                before = {k: item.base[k] for k in after}
            records.append(audit_record(audit, now, item.mapping, item.entity, before, after))
            events += events_of(item.entity, before, now)
            item.base = item.written = current
        return records, events

    def clear(self) -> None:
        self._tracked.clear()


def changed_columns(mapping: EntityMapping[Any], entity: Any, snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The columns that differ from ``snapshot`` (``version`` aside)."""
    current = mapping.snapshot(entity)
    return {k: v for k, v in current.items() if snapshot[k] != v and k != "version"}


@functools.cache
def _table_order() -> dict[str, int]:
    """Tables in foreign-key order (sorting the metadata costs more than a whole small flush: done once)."""
    return {t.name: i for i, t in enumerate(metadata.sorted_tables)}
