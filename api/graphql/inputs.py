"""Input objects built by a function written once per type, not by strawberry's generic walk per value.

Before a resolver runs, strawberry turns each argument, as graphql-core coerced it (a dict keyed by GraphQL field
names, enums already members, scalars already parsed), into the Python input classes (``convert_argument``). For
every value of every field it asks again what the field's type is (optional or ``Maybe``, list, scalar, lazy, enum,
input object), resolves the field's type and converts its Python name to the GraphQL one: 5.5 ms for the 100 items
of a ``submitReports`` input, 14 % of such a request's server CPU (py-spy, 8 clients).

``install_input_builders`` gives each input type of the schema a ``from_input`` (strawberry's public hook for types
that build their own value, ``StrawberryObjectDefinition.from_input``) whose ``build`` is Python source written from
the type when the schema is built: one constructor call with every field's conversion inline when the value holds
all the fields (graphql-core's always holds the required ones and those with a default), else field by field with
strawberry's implicit None for a field left out; nested input types call their own ``build``. The same 100 items
take 0.1 ms. What strawberry handles in a way this module does not model (``GlobalID``, an input type with a
``from_input`` of its own or left to strawberry; none in this schema today) is converted at that field by
strawberry's own ``convert_argument``, with the path it would have had. A type with a ``Maybe`` field keeps
strawberry's conversion whole: strawberry checks a null sent for a ``Maybe`` in the document only for types without
a ``from_input``. ``tests/unit/graphql/test_input_builders.py`` runs both over generated values of every input type
of the schema and compares what they build, field by field; it fails when a builder is altered (a field's conversion
skipped, a list not copied).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLInputObjectType
from strawberry import Schema
from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.arguments import InputContext, convert_argument
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

from api.graphql.internals import core_schema

Path = tuple[str | int, ...]
Build = Callable[[type, Mapping[str, Any], Any, Path], Any]
"""An input type's ``build(cls, value, info, path)``: the value of ``cls`` for a coerced ``value`` (``info``, and
``path``, the value's place in the arguments, for strawberry's own conversion where it runs below)."""


class _Builder:
    """The ``from_input`` of one input type (strawberry calls it with the class, the value and an ``InputContext``)."""

    def __init__(self, definition: StrawberryObjectDefinition, types: _Types) -> None:
        self.definition = definition
        self.types = types
        self.build: Build = _unprepared

    def prepare(self) -> None:
        """Writes ``build`` for this type (once every builder exists: input types refer to each other)."""
        self.build = self.types.compile(self.definition)

    def __call__(self, cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        return self.build(cls, value, context.info, context.path)


class _Types:
    """The builders of one schema's input types, and what they are written from."""

    def __init__(self, schema: Schema) -> None:
        self.config = schema.config
        self.registry = schema.schema_converter.scalar_registry
        self.builders: dict[int, _Builder] = {}

    def leaf(self, kind: Any) -> bool:
        """strawberry's test for a value used as graphql-core coerced it: a scalar (``GlobalID`` is one too, which
        callers test first) or an enum definition."""
        if isinstance(kind, LazyType):
            return self.leaf(kind.resolve_type())
        return is_scalar(kind, self.registry) or isinstance(kind, StrawberryEnumDefinition)

    def ours(self, kind: Any) -> _Builder | None:
        """The builder of ``kind`` if it is an input type whose ``from_input`` is this module's."""
        definition = getattr(kind, "__strawberry_definition__", None)
        builder = self.builders.get(id(definition))
        return builder if definition is not None and definition.from_input is builder else None

    def needs_path(self, definition: StrawberryObjectDefinition, seen: frozenset[int]) -> bool:
        """Whether converting a value of this input type reaches strawberry's own conversion anywhere below it
        (the only conversion that reads a value's path); a type met again below itself adds nothing new."""
        if id(definition) in seen:
            return False
        seen = seen | {id(definition)}
        for field in definition.fields:
            kind = field.resolve_type(type_definition=definition)
            while isinstance(kind, StrawberryOptional | StrawberryList | LazyType) and not isinstance(
                kind, StrawberryMaybe
            ):
                kind = kind.resolve_type() if isinstance(kind, LazyType) else kind.of_type
            if isinstance(kind, StrawberryMaybe) or kind is GlobalID:
                return True
            if self.leaf(kind) or has_enum_definition(kind):
                continue
            builder = self.ours(kind)
            if builder is None or self.needs_path(builder.definition, seen):
                return True
        return False

    def compile(self, definition: StrawberryObjectDefinition) -> Build:
        """``build`` as Python source: strawberry's implicit None for each field without a default (graphql-core
        has checked the required ones), then each field the value holds, converted as its type asks, then the
        class. Names come from the schema (GraphQL and Python identifiers), written as string literals."""
        names = self.config.name_converter
        defaults = {
            f.python_name: None
            for f in definition.fields
            if f.default_value is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        namespace: dict[str, Any] = {"UNSET": UNSET}
        fields = [
            (names.from_field(f), f.python_name, f.resolve_type(type_definition=definition)) for f in definition.fields
        ]
        # graphql-core's coerced value holds only the type's fields: when it holds all of them (it always holds the
        # required ones and those with a default), one call; a key missing after all (a caller's own value) falls
        # back to the field-by-field form below, which also raises what strawberry would
        every = ", ".join(
            f"{python}={self.expression(kind, f'value[{name!r}]', f'(*path, {name!r})', namespace, 0)}"
            for name, python, kind in fields
        )
        lines = ["def build(cls, value, info, path):"]
        lines += [f"    if len(value) == {len(fields)}:", "        try:", f"            return cls({every})"]
        lines += ["        except KeyError:", "            pass", f"    kwargs = {defaults!r}"]
        for name, python, kind in fields:
            lines += [
                f"    if {name!r} in value:",
                f"        v = value[{name!r}]",
                f"        kwargs[{python!r}] = {self.expression(kind, 'v', f'(*path, {name!r})', namespace, 0)}",
            ]
        lines.append("    return cls(**kwargs)")
        source = "\n".join(lines)
        exec(compile(source, f"<input builder of {definition.name}>", "exec"), namespace)  # noqa: S102 (see above)
        build: Build = namespace["build"]
        return build

    def expression(self, kind: Any, var: str, place: str, namespace: dict[str, Any], depth: int) -> str:
        """A Python expression converting the local ``var`` of ``kind``, in strawberry's order: ``Maybe``,
        optional (None and UNSET pass everywhere, as in strawberry), list, scalar, lazy type, enum, input object;
        ``place`` is an expression of its path (evaluated only where strawberry's conversion may read it)."""
        if isinstance(kind, StrawberryMaybe) or kind is GlobalID:  # none in this schema today
            return self._generic(kind, var, place, namespace)
        if isinstance(kind, StrawberryOptional):
            return self.expression(kind.of_type, var, place, namespace, depth)
        passing = f"{var} if {var} is None or {var} is UNSET else "
        if isinstance(kind, StrawberryList):
            item = kind.of_type
            inner = item.of_type if isinstance(item, StrawberryOptional) else item
            if inner is not GlobalID and self.leaf(inner):  # no converting; still a copy, as strawberry makes
                return f"({passing}list({var}))"
            x, i = f"item_{depth}", f"index_{depth}"
            converted = self.expression(item, x, f"(*{place}, {i})", namespace, depth + 1)
            if i not in converted:  # nothing below reads the items' paths
                return f"({passing}[{converted} for {x} in {var}])"
            return f"({passing}[{converted} for {i}, {x} in enumerate({var})])"
        if self.leaf(kind) or has_enum_definition(kind):
            return var
        if isinstance(kind, LazyType):
            return self.expression(kind.resolve_type(), var, place, namespace, depth)
        builder = self.ours(kind)
        if builder is None:  # not an input type built here
            return self._generic(kind, var, place, namespace)
        index = len(namespace)
        namespace[f"builder_{index}"], namespace[f"class_{index}"] = builder, kind
        where = place if self.needs_path(builder.definition, frozenset()) else "()"
        return f"({passing}builder_{index}.build(class_{index}, {var}, info, {where}))"

    def _generic(self, kind: Any, var: str, place: str, namespace: dict[str, Any]) -> str:
        """strawberry's own conversion of ``kind`` for ``var``."""
        index = len(namespace)
        namespace[f"kind_{index}"], namespace["convert_argument"] = kind, convert_argument
        namespace["registry"], namespace["config"] = self.registry, self.config
        return f"convert_argument({var}, kind_{index}, registry, config, info, path={place})"


def _has_maybe(definition: StrawberryObjectDefinition) -> bool:
    """Whether a field of the type is a ``Maybe``: strawberry checks a null sent for one in the document only for
    types without a ``from_input`` (``MaybeNullValidationRule``), so such a type is left to strawberry whole."""
    for field in definition.fields:
        kind = field.resolve_type(type_definition=definition)
        while isinstance(kind, StrawberryOptional | StrawberryList | LazyType):
            if isinstance(kind, StrawberryMaybe):
                return True
            kind = kind.resolve_type() if isinstance(kind, LazyType) else kind.of_type
    return False


def _unprepared(cls: type, value: Mapping[str, Any], info: Any, path: Path) -> Any:
    raise RuntimeError(f"the input builder of {cls.__name__} is not prepared")


def input_definitions(schema: Schema) -> list[StrawberryObjectDefinition]:
    """The definitions of the schema's input types."""
    found = []
    for named in core_schema(schema).type_map.values():
        if isinstance(named, GraphQLInputObjectType):
            definition = (named.extensions or {}).get("strawberry-definition")
            if isinstance(definition, StrawberryObjectDefinition):
                found.append(definition)
    return found


def install_input_builders(schema: Schema) -> list[str]:
    """Gives every input type of ``schema`` without a ``from_input`` of its own one built for it; returns their
    names. Once per type: a type that already has one (a later schema over the same classes) keeps it."""
    types = _Types(schema)
    fresh: list[_Builder] = []
    for definition in input_definitions(schema):
        if definition.from_input is None and not _has_maybe(definition):
            builder = _Builder(definition, types)
            types.builders[id(definition)] = builder
            definition.from_input = builder
            fresh.append(builder)
        elif isinstance(definition.from_input, _Builder):
            types.builders[id(definition)] = definition.from_input
    for builder in fresh:
        builder.prepare()
    return sorted(b.definition.name for b in fresh)


def remove_input_builders(schema: Schema) -> list[StrawberryObjectDefinition]:
    """Takes the builders of this module off the schema's input types (strawberry's generic conversion again);
    returns the definitions changed. For tests that compare the two."""
    changed = []
    for definition in input_definitions(schema):
        if isinstance(definition.from_input, _Builder):
            definition.from_input = None
            changed.append(definition)
    return changed
