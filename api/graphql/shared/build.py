"""Building a record type from its domain entity, and the related records a reader may see.

Each takes the record type as a class, or as the lazy reference another area names it by (`CaseRef`, see
`api.graphql.shared.lazy`): a resolver builds another area's records without importing that area.

``build`` makes the node a mutation answers (its fields copied from the entity, its global id computed). The read
paths (``one``, ``many``, ``page_of``) build *read views* instead: an instance of a subclass of the node type made
once per type, holding only the entity, whose plain fields read the entity's same-named attributes (C-level
``attrgetter`` properties) and whose ``id`` is computed when it is read. A console page builds ~850 nodes and reads
a few of each one's fields (a case's 17 plain fields, 4 read; a policy's id, never read): a view answers every
field as the copied node would, since ``build`` copies exactly those attributes, for a fraction of the work.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar, get_args

import orjson
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from api.graphql.context import Info
from api.graphql.ids import to_global_id
from api.graphql.shared.visibility import visible

N = TypeVar("N")

READ_VIEWS: dict[type[Any], type[Any]] = {}
"""Each read view type made so far -> its node type (the origin of the strawberry definition it carries). A view
carries no ``strawberry.cast`` (its instances hold only ``entity``), so strawberry's own ``is_type_of`` and union
resolution answer the same for every instance of it: the node type's (the compiled plans use it)."""

NOT_AWAITABLE: set[type[Any]] = {dict, list, str, int, float, bool, tuple, type(None), orjson.Fragment}
"""Types no instance of which is awaitable: built-in values, a node PostgreSQL rendered (``orjson.Fragment``), the
read views (no ``__await__``) and the connections' types, for the compiled plans' awaitable checks
(``api.graphql.compiler.runtime.SYNC``)."""


class _Plan(NamedTuple):
    node_type: type[Any]
    name: str
    plain: tuple[str, ...]
    direct: bool
    view: Callable[[Any], Any]  # entity -> the node's read view (the copied node when the type is not direct)


def build(cls: type[N], entity: Any) -> N:
    """Fill a node type's plain fields from the same-named entity attributes.

    A page builds ~800 nodes of up to 17 fields: where the dataclass ``__init__`` would only store those fields
    (checked once per type by ``_plain_fields``), they are stored directly, without the call."""
    node_type, name, plain, direct, _ = _plan(cls)
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


def view(cls: type[N], entity: Any) -> N:
    """The node of ``entity`` for a read path: its read view (see the module's doc), answering as ``build``'s."""
    return _plan(cls).view(entity)  # type: ignore[no-any-return]


_PLANS: dict[int, tuple[Any, _Plan]] = {}
"""By ``id`` of the class or lazy reference (kept alive here): a lazy reference's own hash walks the typing
machinery (a page asks ~1,000 times)."""


def _plan(cls: Any) -> _Plan:
    entry = _PLANS.get(id(cls))
    if entry is not None and entry[0] is cls:
        return entry[1]
    plan = _make_plan(cls)
    _PLANS[id(cls)] = (cls, plan)
    return plan


def _plain_fields(cls: Any) -> tuple[type[Any], str, tuple[str, ...], bool]:
    """The class, its GraphQL name, the fields ``build`` copies (read once per type: a page builds hundreds), and
    whether ``__init__`` would do nothing but store them with ``id`` and ``entity``."""
    return _plan(cls)[:4]


def _make_plan(cls: Any) -> _Plan:
    node_type = _resolved(cls)
    definition = node_type.__strawberry_definition__
    plain = tuple(
        f.python_name for f in definition.fields if f.base_resolver is None and f.python_name not in ("id", "entity")
    )
    fields = dataclasses.fields(node_type)  # resolver fields are dataclass fields too, but never stored
    set_by_init = {f.name for f in fields if f.init or _has_default(f)}
    direct = set_by_init == {*plain, "id", "entity"} and not hasattr(node_type, "__post_init__")
    name = str(definition.name)
    if direct:
        view_type, new = _view_type(node_type, name, plain), object.__new__

        def make(entity: Any) -> Any:
            node = new(view_type)
            node.entity = entity  # an attribute store, not ``__dict__`` (reading that makes the instance a dict)
            return node

    else:

        def make(entity: Any) -> Any:
            return build(node_type, entity)

    return _Plan(node_type, name, plain, direct, make)


def _view_type(node_type: type[Any], name: str, plain: tuple[str, ...]) -> type[Any]:
    """The read view of ``node_type``: a subclass (so strawberry's ``is_type_of``, its union and interface
    resolution and ``isinstance`` see the node type) whose plain fields and ``id`` read the entity."""

    def global_id(node: Any) -> str:
        return to_global_id(name, node.entity.id)

    namespace: dict[str, Any] = {field: property(operator.attrgetter(f"entity.{field}")) for field in plain}
    namespace["id"] = property(global_id)
    namespace["__slots__"] = ()
    namespace["__module__"] = node_type.__module__
    namespace["__qualname__"] = node_type.__qualname__
    namespace["__doc__"] = node_type.__doc__
    view_type = type(node_type.__name__, (node_type,), namespace)
    if not hasattr(view_type, "__await__"):
        NOT_AWAITABLE.add(view_type)
    if not hasattr(view_type, TYPE_CAST_ATTRIBUTE) and node_type.__strawberry_definition__.origin is node_type:
        READ_VIEWS[view_type] = node_type
    return view_type


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
    return _plan(cls).name


def one(info: Info, cls: type[N], entity: Any | None) -> N | None:
    """A related record, or null when it does not exist or the reader may not see it."""
    if entity is None:
        return None
    plan = _plan(cls)
    if not visible(info.context, plan.name, entity):
        return None
    return plan.view(entity)  # type: ignore[no-any-return]


def many(info: Info, cls: type[N], entities: list[Any]) -> list[N]:
    """The related records the reader may see."""
    if not entities:
        return []
    plan = _plan(cls)
    name, make, context = plan.name, plan.view, info.context
    return [make(e) for e in entities if visible(context, name, e)]


def now() -> datetime:
    return datetime.now(UTC)
