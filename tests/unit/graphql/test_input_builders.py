"""Every input type of the schema is built by its ``from_input`` (``api.graphql.inputs``) exactly as strawberry's
generic conversion builds it: the same classes, the same field values (``UNSET`` where a field was left out, None
where it was null, a fresh list where the schema has a list), the same error for a value strawberry refuses.

Values are generated per input type by hypothesis as a client would send them (JSON: required fields always,
nullable ones left out, null or set; enums by name; scalars in their wire form, global ids valid and not), then
coerced by graphql-core as it coerces variables (and again with some fields left out, as a caller building its
own value might), then converted twice: with the builders, and with every builder taken off (strawberry's
``convert_argument`` alone)."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from graphql.utilities import coerce_input_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.unset import UNSET

from api.graphql.inputs import input_definitions, install_input_builders, remove_input_builders
from api.graphql.internals import core_schema
from api.graphql.schema import build_schema

SCHEMA = build_schema()
CORE = core_schema(SCHEMA)
DEFINITIONS = {d.name: d for d in input_definitions(SCHEMA)}

_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_GLOBAL_IDS = st.one_of(
    st.builds(lambda t, i: base64.b64encode(f"{t}:{i}".encode()).decode(), st.sampled_from(["Case", "Report"]), _TEXT),
    _TEXT,  # mostly not a global id at all
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "String": _TEXT,
    "ID": st.one_of(_TEXT, _GLOBAL_IDS),
    "Int": st.integers(-(2**31), 2**31 - 1),
    "BigInt": st.integers(-(2**63), 2**63 - 1),
    "Float": st.floats(allow_nan=False, allow_infinity=False),
    "Boolean": st.booleans(),
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    "Date": st.dates().map(lambda d: d.isoformat()),
    "JSON": _JSON,
    "GlobalID": _GLOBAL_IDS,
}


def _wire(kind: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value of ``kind`` as a client sends it (nullable types: sometimes null)."""
    if isinstance(kind, GraphQLNonNull):
        return _present(kind.of_type, depth)
    return st.one_of(st.none(), _present(kind, depth))


def _present(kind: Any, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(kind, GraphQLList):
        return st.lists(_wire(kind.of_type, depth + 1), max_size=3 if depth < 3 else 0)
    if isinstance(kind, GraphQLEnumType):
        return st.sampled_from(sorted(kind.values))
    if isinstance(kind, GraphQLScalarType):
        return _SCALARS[kind.name]
    assert isinstance(kind, GraphQLInputObjectType), kind
    required = {n: _wire(f.type, depth + 1) for n, f in kind.fields.items() if isinstance(f.type, GraphQLNonNull)}
    optional = {n: _wire(f.type, depth + 1) for n, f in kind.fields.items() if n not in required}
    if depth > 3:  # deep enough: nullable fields left out
        optional = {}
    return st.fixed_dictionaries(required, optional=optional)


@contextmanager
def _generic() -> Iterator[None]:
    """strawberry's own conversion for every input type, for the duration."""
    builders = {name: d.from_input for name, d in DEFINITIONS.items()}
    assert len(remove_input_builders(SCHEMA)) == len(DEFINITIONS)
    try:
        yield
    finally:
        for name, builder in builders.items():
            DEFINITIONS[name].from_input = builder


def _shape(value: Any) -> Any:
    """Everything a resolver could see of a converted value: classes, fields, values, and their types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = tuple((f.name, _shape(getattr(value, f.name))) for f in dataclasses.fields(value))
        return (type(value).__module__, type(value).__qualname__, fields)
    if isinstance(value, list):
        return ("list", tuple(_shape(v) for v in value))
    if value is UNSET:
        return ("UNSET",)
    return (type(value).__module__, type(value).__qualname__, repr(value))


def _lists(value: Any) -> Iterator[int]:
    """The ids of the lists in a value (a converted value holds fresh lists where the schema has a list, and a
    scalar's value, a JSON list say, as graphql-core gave it)."""
    if isinstance(value, list):
        yield id(value)
        for item in value:
            yield from _lists(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _lists(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _lists(getattr(value, f.name))


def _convert(definition: StrawberryObjectDefinition, coerced: Any) -> Any:
    try:
        return convert_argument(
            coerced, definition.origin, SCHEMA.schema_converter.scalar_registry, SCHEMA.config, path=("input",)
        )
    except Exception as exc:  # the error is what is compared
        return ("raised", type(exc).__qualname__, str(exc))


def test_every_input_type_has_its_builder() -> None:
    assert len(DEFINITIONS) > 50
    missing = [n for n, d in DEFINITIONS.items() if d.from_input is None]
    assert missing == []
    assert install_input_builders(SCHEMA) == []  # installed once: a second schema build leaves them


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_built_input_is_what_strawberry_builds(name: str, data: st.DataObject) -> None:
    kind = CORE.get_type(name)
    assert isinstance(kind, GraphQLInputObjectType)
    wire = data.draw(_present(kind, 0))
    try:
        coerced = coerce_input_value(wire, GraphQLNonNull(kind))
    except GraphQLError:
        return  # graphql-core refuses it (a one-of input with two fields set, a global id it cannot read): no call
    # and as a caller might hand it over itself: some fields left out (the field-by-field form, strawberry's
    # implicit None for those without a default)
    left_out = data.draw(st.sets(st.sampled_from(sorted(kind.fields))))
    partial = {k: v for k, v in coerced.items() if k not in left_out}
    definition = DEFINITIONS[name]
    for value in (coerced, partial):
        built = _convert(definition, value)
        with _generic():
            generic = _convert(definition, value)
        assert _shape(built) == _shape(generic)
        sent = set(_lists(value))  # the same lists passed on as they are (inside a JSON value), the others copied
        assert set(_lists(built)) & sent == set(_lists(generic)) & sent


@strawberry.input
class Plain:
    name: str


@strawberry.input
class WithMaybe:
    note: strawberry.Maybe[str]
    plain: Plain | None = None


@strawberry.type
class MaybeQuery:
    @strawberry.field
    def echo(self, value: WithMaybe, other: Plain | None = None) -> str:
        return f"{value.note!r} {value.plain!r} {other!r}"


def test_a_type_with_a_maybe_field_keeps_strawberrys_conversion() -> None:
    """strawberry checks a null sent for a ``Maybe`` field in the document only for types without a ``from_input``
    (``MaybeNullValidationRule``): such a type gets no builder, and the null is still refused before anything runs;
    its other fields' input types get theirs."""
    schema = strawberry.Schema(query=MaybeQuery)
    assert install_input_builders(schema) == ["Plain"]
    refused = schema.execute_sync("{ echo(value: {note: null}) }")
    assert refused.errors
    assert "note" in refused.errors[0].message
    answered = schema.execute_sync('{ echo(value: {note: "x", plain: {name: "p"}}, other: {name: "o"}) }')
    assert answered.errors is None
    assert answered.data == {"echo": "Some('x') Plain(name='p') Plain(name='o')"}
