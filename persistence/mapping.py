"""Entity ↔ row mapping: a domain dataclass maps field-for-column onto one table (no ORM instrumentation)."""

from __future__ import annotations

import dataclasses
import enum
import functools
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

E = TypeVar("E")

REDACTED = "«redacted»"


@dataclass(frozen=True)
class EntityMapping(Generic[E]):
    """How one aggregate is stored. `kind` names it in audit events and GraphQL (e.g. "Case").

    `personal` fields (email, phone, IP) are never copied into the append-only audit trail: an immutable log
    cannot honour an erasure request, so audit events record only that such a field changed.
    """

    entity: type[E]
    table: sa.Table
    kind: str
    personal: frozenset[str] = frozenset()

    @property
    def fields(self) -> tuple[str, ...]:
        return _field_names(self.entity)

    def to_row(self, entity: E) -> dict[str, Any]:
        return {name: getattr(entity, name) for name in _field_names(self.entity)}

    def from_row(self, row: Mapping[str, Any] | sa.RowMapping) -> E:
        values = {}
        for name in self.fields:
            value = row[name]
            if isinstance(value, list):
                element = _tuple_element_enum(self.entity, name)  # type: ignore[arg-type]
                value = tuple(element(v) for v in value) if element is not None else tuple(value)
            values[name] = value
        return self.entity(**values)

    def snapshot(self, entity: E) -> dict[str, Any]:
        return self.to_row(entity)

    def audit_view(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {k: (REDACTED if k in self.personal and v is not None else _plain(v)) for k, v in values.items()}


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(entity: type[Any]) -> tuple[str, ...]:
    """The entity's field names, read once (``dataclasses.fields`` per row was a tenth of a batch's CPU)."""
    names = _FIELD_NAMES.get(entity)
    if names is None:
        names = _FIELD_NAMES[entity] = tuple(f.name for f in dataclasses.fields(entity))
    return names


@functools.cache
def _tuple_element_enum(entity: type[Any], name: str) -> type[enum.Enum] | None:
    """For a `tuple[SomeEnum, ...]` field, the enum (arrays come back from PostgreSQL as plain strings)."""
    hint = typing.get_type_hints(entity)[name]
    args = typing.get_args(hint)
    if args and isinstance(args[0], type) and issubclass(args[0], enum.Enum):
        return args[0]
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    return value
