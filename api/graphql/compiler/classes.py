"""Answers of strawberry's union resolution and ``is_type_of`` that depend on a value's class alone, kept per class.

A strawberry union answers a value's runtime type with ``_resolve_union_type`` (``StrawberryUnion``): the type a
``strawberry.cast`` names, else the first member (then any type of the schema) whose definition ``is_implemented_by``
the value, else the members' ``is_type_of``. graphql-core then checks the name (``ensure_valid_runtime_type``) and
the object type's ``is_type_of``; strawberry's own (``GraphQLCoreConverter.from_object``, on a type implementing
interfaces) is true of a value cast to the type or one of its interfaces, of a specialization of the generic the
type is made from, or of an instance of the type's or its interfaces' classes. For 1,000 result items that is about
40 calls each, every one of them answering the same for every item of a class.

``union_member`` and ``is_type_of_holds`` say when the answer is provably one of the class: the value is not cast
(checked per value: ``strawberry.cast`` marks an instance), its ``__strawberry_definition__`` is its class's (checked
per value), the definition is no generic's (no type of the schema is a specialization of it: those answers read the
value's fields), strawberry's resolver would pick a member by that definition, and the ``isinstance`` checks are on
classes whose metaclass is ``type`` (an ``ABCMeta`` answers by registrations that may change; a custom one, by
anything), for a class that does not redefine ``__class__`` nor derive from ``dict`` (which strawberry refuses). The
compiled plan keeps such answers (``remember``, ``learn_is_type_of``) and takes them for the next plain value of
the class; a class whose answer is not provably its own is kept as None, and its values run the whole path every
time (nothing is worked out again for them); a cast value runs the whole path and teaches nothing.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLUnionType
from graphql.execution.executor import Executor
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.union import StrawberryUnion

__all__ = [
    "CAST",
    "ClassMemo",
    "class_definition",
    "is_type_of_holds",
    "is_type_of_holds_of",
    "learn_is_type_of",
    "plain",
    "remember",
    "strawberry_is_type_of",
    "strawberry_union",
    "union_member",
    "union_member_of",
]

CAST = TYPE_CAST_ATTRIBUTE
"""The attribute ``strawberry.cast`` sets on a value: a value carrying it runs the whole path."""

ClassMemo = dict[type[Any], tuple[StrawberryObjectDefinition, Callable[..., Any]] | None]
"""A value's class -> (its strawberry definition, the compiled selection of the object type it completes as), or
None: the class is asked every time."""


def _inner_code(code: types.CodeType, *names: str) -> types.CodeType | None:
    for name in names:
        found = [c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == name]
        if len(found) != 1:
            return None
        code = found[0]
    return code


_UNION_RESOLVER = _inner_code(StrawberryUnion.get_type_resolver.__code__, "_resolve_union_type")
_IS_TYPE_OF = _inner_code(GraphQLCoreConverter.from_object.__code__, "_get_is_type_of", "is_type_of")


def _closure(function: Any, code: types.CodeType | None) -> dict[str, Any] | None:
    """The variables a strawberry closure of ``code`` holds, or None for any other function."""
    if code is None or getattr(function, "__code__", None) is not code or function.__closure__ is None:
        return None
    names: tuple[str, ...] = function.__code__.co_freevars
    return {name: cell.cell_contents for name, cell in zip(names, function.__closure__, strict=True)}


def strawberry_union(abstract_type: Any) -> bool:
    """Whether ``abstract_type`` is a union resolved by strawberry's own ``_resolve_union_type``."""
    return (
        isinstance(abstract_type, GraphQLUnionType)
        and _closure(abstract_type.resolve_type, _UNION_RESOLVER) is not None
    )


def strawberry_is_type_of(check: Any) -> bool:
    """Whether ``check`` is strawberry's own ``is_type_of`` (of a type implementing interfaces)."""
    return _closure(check, _IS_TYPE_OF) is not None


def class_definition(cls: type[Any]) -> StrawberryObjectDefinition | None:
    """The strawberry object definition of ``cls``, when its values answer by it (see the module's doc)."""
    if issubclass(cls, dict) or any("__class__" in vars(c) for c in cls.__mro__[:-1]):
        return None
    definition = getattr(cls, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryObjectDefinition) or definition.is_input:
        return None
    return definition


def plain(value: Any, definition: StrawberryObjectDefinition) -> bool:
    """Whether ``value`` answers as its class does: not cast, and carrying its class's ``definition``."""
    return getattr(value, "__strawberry_definition__", None) is definition and getattr(value, CAST, None) is None


def union_member_of(union: Any, definition: StrawberryObjectDefinition) -> str | None:
    """The member strawberry's union resolution answers for every plain value with ``definition``, or None when
    it is not one of the definition alone (or ``union`` resolves otherwise)."""
    if not isinstance(union, GraphQLUnionType):
        return None
    variables = _closure(union.resolve_type, _UNION_RESOLVER)
    if variables is None:
        return None
    type_map = variables["type_map"]
    for concrete in type_map.values():  # a generic's specialization: is_implemented_by reads the value's fields
        if (
            isinstance(concrete.definition, StrawberryObjectDefinition)
            and concrete.definition.concrete_of is definition
        ):
            return None
    for member in union.types:
        if type_map[member.name].definition is definition:
            return str(member.name)
    return None  # another type of the schema, or the members' is_type_of: not the class's answer


def is_type_of_holds_of(object_type: GraphQLObjectType, cls: type[Any], definition: StrawberryObjectDefinition) -> bool:
    """Whether ``object_type``'s ``is_type_of`` is provably true of every plain value of ``cls`` (whose definition
    is ``definition``): it has none, or it is strawberry's own answering true by the class."""
    check = object_type.is_type_of
    if check is None:
        return True
    variables = _closure(check, _IS_TYPE_OF)
    if variables is None:
        return False
    concrete_of = variables["object_type"].concrete_of
    if concrete_of is not None and definition.origin is concrete_of.origin:
        return True
    classes = variables["possible_types"]
    return all(type(c) is type for c in classes) and issubclass(cls, classes)


def union_member(union: Any, value: Any) -> str | None:
    """``union_member_of`` for ``value``: None for a value that does not answer as its class does."""
    definition = class_definition(type(value))
    if definition is None or not plain(value, definition):
        return None
    return union_member_of(union, definition)


def is_type_of_holds(object_type: GraphQLObjectType, value: Any) -> bool:
    """``is_type_of_holds_of`` for ``value``: False for a value that does not answer as its class does."""
    definition = class_definition(type(value))
    if definition is None or not plain(value, definition):
        return False
    return is_type_of_holds_of(object_type, type(value), definition)


def remember(
    memo: ClassMemo, ex: Any, union: Any, object_type: GraphQLObjectType, value: Any, select: Callable[..., Any]
) -> None:
    """After ``union`` resolved ``value`` to ``object_type`` (graphql-core checked the name): keep ``select`` for
    ``value``'s class when that is the class's answer and ``object_type``'s ``is_type_of`` holds of the class, or
    keep None (the class is asked every time, nothing worked out again); a value that does not answer as its class
    does (cast) tells nothing of it."""
    cls = type(value)
    definition = class_definition(cls)
    if definition is not None and not plain(value, definition):
        return
    if (
        definition is None
        or type(ex).ensure_valid_runtime_type is not Executor.ensure_valid_runtime_type
        or union_member_of(union, definition) != object_type.name
        or not is_type_of_holds_of(object_type, cls, definition)
    ):
        memo[cls] = None
        return
    memo[cls] = (definition, select)


def learn_is_type_of(
    memo: dict[type[Any], StrawberryObjectDefinition | None], object_type: GraphQLObjectType, value: Any, matches: Any
) -> None:
    """After ``object_type``'s ``is_type_of`` answered ``matches`` for ``value``: keep the class's definition when it
    provably holds of every plain value of the class, else None (asked every time); a value that does not answer as
    its class does tells nothing of it."""
    cls = type(value)
    definition = class_definition(cls)
    if definition is not None and not plain(value, definition):
        return
    holds = definition is not None and matches is True and is_type_of_holds_of(object_type, cls, definition)
    memo[cls] = definition if holds else None
