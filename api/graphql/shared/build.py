"""Building a record type from its domain entity, and the related records a reader may see."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any, TypeVar

from api.graphql.context import Info
from api.graphql.ids import to_global_id
from api.graphql.shared.visibility import visible

N = TypeVar("N")


def build(cls: type[N], entity: Any) -> N:
    """Fill a node type's plain fields from the same-named entity attributes."""
    name, plain = _plain_fields(cls)  # type: ignore[arg-type]  # classes are hashable
    values = {field: getattr(entity, field) for field in plain}
    return cls(id=to_global_id(name, entity.id), entity=entity, **values)  # type: ignore[call-arg]


@functools.cache
def _plain_fields(cls: type[Any]) -> tuple[str, tuple[str, ...]]:
    """The type's GraphQL name and the fields ``build`` copies (read once per type: a page builds hundreds)."""
    definition = cls.__strawberry_definition__
    plain = tuple(
        f.python_name for f in definition.fields if f.base_resolver is None and f.python_name not in ("id", "entity")
    )
    return str(definition.name), plain


def build_all(cls: type[N], entities: list[Any]) -> list[N]:
    return [build(cls, e) for e in entities]


def _type_name(cls: type[Any]) -> str:
    return str(cls.__strawberry_definition__.name)


def one(info: Info, cls: type[N], entity: Any | None) -> N | None:
    """A related record, or null when it does not exist or the reader may not see it."""
    if entity is None or not visible(info.context, _type_name(cls), entity):
        return None
    return build(cls, entity)


def many(info: Info, cls: type[N], entities: list[Any]) -> list[N]:
    """The related records the reader may see."""
    name = _type_name(cls)
    return [build(cls, e) for e in entities if visible(info.context, name, e)]


def now() -> datetime:
    return datetime.now(UTC)
