"""Building a record type from its domain entity, and the related records a reader may see.

Each takes the record type as a class, or as the lazy reference another area names it by (`CaseRef`, see
`api.graphql.shared.lazy`): a resolver builds another area's records without importing that area."""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, datetime
from typing import Any, TypeVar, get_args

from api.graphql.context import Info
from api.graphql.ids import to_global_id
from api.graphql.shared.visibility import visible

N = TypeVar("N")


def build(cls: type[N], entity: Any) -> N:
    """Fill a node type's plain fields from the same-named entity attributes.

    A page builds ~800 nodes of up to 17 fields: where the dataclass ``__init__`` would only store those fields
    (checked once per type by ``_plain_fields``), they are stored directly, without the call."""
    node_type, name, plain, direct = _plain_fields(cls)  # type: ignore[arg-type]  # classes are hashable
    if not direct:
        values = {field: getattr(entity, field) for field in plain}
        return node_type(id=to_global_id(name, entity.id), entity=entity, **values)  # type: ignore[no-any-return]
    node = object.__new__(node_type)
    attributes = node.__dict__
    for field in plain:
        attributes[field] = getattr(entity, field)
    attributes["id"] = to_global_id(name, entity.id)
    attributes["entity"] = entity
    return node  # type: ignore[no-any-return]


@functools.cache
def _plain_fields(cls: Any) -> tuple[type[Any], str, tuple[str, ...], bool]:
    """The class, its GraphQL name, the fields ``build`` copies (read once per type: a page builds hundreds), and
    whether ``__init__`` would do nothing but store them with ``id`` and ``entity``."""
    node_type = _resolved(cls)
    definition = node_type.__strawberry_definition__
    plain = tuple(
        f.python_name for f in definition.fields if f.base_resolver is None and f.python_name not in ("id", "entity")
    )
    fields = dataclasses.fields(node_type)  # resolver fields are dataclass fields too, but never stored
    set_by_init = {f.name for f in fields if f.init or _has_default(f)}
    direct = set_by_init == {*plain, "id", "entity"} and not hasattr(node_type, "__post_init__")
    return node_type, str(definition.name), plain, direct


def _has_default(field: dataclasses.Field[Any]) -> bool:
    return field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING


def _resolved(cls: Any) -> type[Any]:
    """The class itself, or the class a lazy reference (`Annotated["Case", strawberry.lazy(...)]`) names."""
    if isinstance(cls, type):
        return cls
    forward, reference = get_args(cls)[:2]
    return reference.resolve_forward_ref(forward).resolve_type()  # type: ignore[no-any-return]


def build_all(cls: type[N], entities: list[Any]) -> list[N]:
    return [build(cls, e) for e in entities]


def _type_name(cls: type[Any]) -> str:
    return _plain_fields(cls)[1]  # type: ignore[arg-type]


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
