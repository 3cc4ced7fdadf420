"""Entity ↔ row mapping: a domain dataclass maps field-for-column onto one table (no ORM instrumentation)."""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
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

    def from_row(self, row: Any, prefix: str = "") -> E:
        """The entity of a row: a SQLAlchemy row mapping or an asyncpg record (columns ``prefix + field``). One
        reading plan per entity for every engine: enums restored, arrays as tuples, JSON decoded."""
        entity: Any = self.entity
        return _entity(entity, row, _reading(entity, False, prefix))  # type: ignore[no-any-return]

    def from_json(self, text: str) -> E:
        """The entity of ``to_jsonb(row)`` text: ids, times and enums restored from their JSON form too."""
        entity: Any = self.entity
        return _entity(entity, orjson.loads(text), _reading(entity, True, ""))  # type: ignore[no-any-return]

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


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _entity(entity: Any, row: Any, plan: tuple[Any, tuple[tuple[str, Callable[[Any], Any]], ...]]) -> Any:
    columns, converting = plan
    values = {name: row[column] for name, column in columns}
    for name, convert in converting:
        value = values[name]
        if value is not None:
            values[name] = convert(value)
    return entity(**values)


@functools.cache
def _reading(
    entity: Any, from_json: bool, prefix: str
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, Callable[[Any], Any]], ...]]:
    """(field, column) pairs, and the fields whose stored value needs converting (a page reads ~500 rows)."""
    converters = _converters(entity, from_json)
    columns = tuple((name, prefix + name) for name, _ in converters)
    return columns, tuple((name, convert) for name, convert in converters if convert is not _same)


@functools.cache
def _converters(entity: Any, from_json: bool) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    hints = typing.get_type_hints(entity)
    result: list[tuple[str, Callable[[Any], Any]]] = []
    for f in dataclasses.fields(entity):
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        base = args[0] if typing.get_origin(hint) in (typing.Union, _UnionType) and len(args) == 1 else hint
        if isinstance(base, type) and issubclass(base, enum.Enum):
            result.append((f.name, _enum_member(base)))
        elif typing.get_origin(base) is tuple:
            element = typing.get_args(base)[0]
            if isinstance(element, type) and issubclass(element, enum.Enum):
                result.append((f.name, functools.partial(_enum_tuple, element)))
            else:
                result.append((f.name, tuple))
        elif typing.get_origin(base) is dict:
            result.append((f.name, _json_object))
        elif from_json and base is uuid.UUID:
            result.append((f.name, uuid.UUID))
        elif from_json and base is datetime:
            result.append((f.name, datetime.fromisoformat))
        else:
            result.append((f.name, _same))
    return tuple(result)


_UnionType = type(int | None)


def _enum_member(kind: type[enum.Enum]) -> Callable[[Any], enum.Enum]:
    """``kind(value)`` by a dictionary look-up first (the enum's own call costs ~1 µs; a page converts ~1,000)."""
    members = kind._value2member_map_

    def member(value: Any) -> enum.Enum:
        found = members.get(value)
        return found if found is not None else kind(value)

    return member


def _enum_tuple(element: type[enum.Enum], values: Any) -> tuple[enum.Enum, ...]:
    return tuple(element(v) for v in values)


def _same(value: Any) -> Any:
    return value


def _json_object(value: Any) -> Any:
    """jsonb: asyncpg hands it over as text (no codec is registered), ``to_jsonb`` as an object."""
    return json.loads(value) if isinstance(value, str) else value
