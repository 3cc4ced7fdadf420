"""Compiled variable coercion (``api.graphql.compiler.variables``) against graphql-core's, on the real schema.

For every shipped console document, and for variables of every input type of the schema (nullable, non-null, in a
list, with defaults), hypothesis generates values, valid and not (wrong types, nulls, missing and unknown fields,
a single value where a list is expected, big integers, NaN and infinities, enum names and internal values, nested
inputs): where graphql-core coerces them, the compiled function must answer the same values (compared with their
types: ``1``, ``1.0`` and ``True`` are not the same) and the same sources; where graphql-core refuses them, it must
give up (None), so that graphql-core reports the errors itself. JSON-shaped inputs never make it give up where
graphql-core succeeds.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from dateutil.parser import isoparse
from graphql import (
    DocumentNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    print_ast,
)
from graphql import build_schema as build_graphql_schema
from graphql.execution import Executor, MiddlewareManager
from graphql.execution.values import VariableValues, get_variable_values
from graphql.pyutils import Undefined
from graphql.utilities import type_from_ast
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.graphql.compiler.variables import _ISO_DATETIME, _iso_datetime, _parses_with, build_executor, compile_variables
from api.graphql.internals import core_schema
from api.graphql.schema import build_schema
from api.settings import Settings

CONSOLE = Path(__file__).resolve().parents[3] / "api" / "console"
INT_MAX = 2**31 - 1


@cache
def schema() -> GraphQLSchema:
    return core_schema(build_schema(Settings(env="test")))


def operations() -> list[tuple[str, OperationDefinitionNode]]:
    found = []
    for path in sorted(CONSOLE.glob("*.graphql")):
        for definition in parse(path.read_text()).definitions:
            if isinstance(definition, OperationDefinitionNode):
                found.append((f"{path.stem}", definition))
    return found


def typed(value: Any) -> Any:
    """``value`` with the type of every part in it (so ``1 != 1.0 != True``, and NaN equals NaN)."""
    if isinstance(value, dict):
        return ("dict", type(value).__qualname__, [(key, typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    return (type(value).__qualname__, repr(value))


def sources(values: VariableValues) -> dict[str, Any]:
    return {
        name: (
            source.signature.name,
            str(source.signature.type),
            print_ast(source.signature.default.literal) if source.signature.default else None,
            "absent" if source.value is Undefined else id(source.value),
        )
        for name, source in values.sources.items()
    }


def check(operation: OperationDefinitionNode, raw: dict[str, Any], *, json_shaped: bool = True) -> bool:
    """graphql-core and the compiled function agree on ``raw``; True when graphql-core coerced it."""
    expected = get_variable_values(schema(), operation.variable_definitions or (), raw)
    got = compiled(operation)(raw)
    if isinstance(expected, list):
        assert got is None, (raw, expected)
        return False
    if got is None:
        assert not json_shaped, ("gave up on values graphql-core coerces", raw, expected.coerced)
        return True
    assert typed(got.coerced) == typed(expected.coerced), raw
    assert sources(got) == sources(expected)
    return True


_compiled: dict[int, Any] = {}


def compiled(operation: OperationDefinitionNode) -> Any:
    key = id(operation)
    if key not in _compiled:
        _compiled[key] = (operation, compile_variables(schema(), operation))
    return _compiled[key][1]


# ---------------------------------------------------------------------------------------------------- values


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([INT_MAX, INT_MAX + 1, -INT_MAX - 1, -INT_MAX - 2, 0, 1, 1.0, 2.5, -0.0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.sampled_from(["", "EU", "eu", "ACCOUNT", "account", "true", "1", "2026-12-01T10:00:00Z", "{}", "[]"]),
    st.lists(st.integers(min_value=-3, max_value=3), max_size=2),
    st.dictionaries(st.sampled_from(["x", "id", "input", "kind"]), st.integers(), max_size=2),
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=8,
)
DATETIMES = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda moment: moment.isoformat()
)
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "String": st.text(max_size=8),
    "ID": st.one_of(st.text(max_size=8), st.integers(min_value=-(2**40), max_value=2**40)),
    "Int": st.integers(min_value=-INT_MAX - 1, max_value=INT_MAX),
    "Float": st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**60), 2**60)),
    "Boolean": st.booleans(),
    "BigInt": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.integers(0, 10**6).map(str)),
    "JSON": JSON,
    "DateTime": st.one_of(
        DATETIMES,
        st.just("2026-12-01T10:00:00Z"),
        st.just("2026-12-01T10:00:00.123456+02:00"),
        st.just(str(datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=1))),
    ),
    "Date": st.dates(min_value=datetime(1990, 1, 1).date()).map(lambda day: day.isoformat()),
}


def values(type_: GraphQLInputType, depth: int = 0, *, junk: bool = True) -> st.SearchStrategy[Any]:
    """Values of ``type_``: mostly valid ones, and (``junk``) now and then something else in any place."""
    valid = _valid(type_, depth, junk)
    if not junk:
        return valid
    return st.one_of(valid, valid, valid, JUNK)


def _valid(type_: GraphQLInputType, depth: int, junk: bool) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLNonNull):
        return _present(type_.of_type, depth, junk)
    present = _present(type_, depth, junk)
    return st.one_of(present, present, st.none())


def _present(type_: GraphQLInputType, depth: int, junk: bool) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLList):
        item = values(type_.of_type, depth, junk=junk)
        return st.one_of(st.lists(item, max_size=3), item)  # a single value stands for a list of one
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from(sorted(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        if depth > 6:  # no input type of the schema refers to itself (compile_variables' depth check)
            return st.nothing()
        fields = {
            name: values(field.type, depth + 1, junk=junk)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default is None
        }
        optional = {name: values(field.type, depth + 1, junk=junk) for name, field in type_.fields.items()}
        base = st.fixed_dictionaries(fields, optional={k: v for k, v in optional.items() if k not in fields})
        if not junk:
            return base
        return st.one_of(
            base,
            base,
            base.flatmap(_without_a_key),
            base.map(lambda value: {**value, "unknownField": 1}),
        )
    assert isinstance(type_, GraphQLScalarType)
    return SCALARS[type_.name]


def _without_a_key(value: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    if not value:
        return st.just(value)
    return st.sampled_from(sorted(value)).map(lambda key: {k: v for k, v in value.items() if k != key})


def variables(operation: OperationDefinitionNode, *, junk: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    strategies = {}
    for definition in operation.variable_definitions or ():
        type_ = type_from_ast(schema(), definition.type)
        assert type_ is not None
        strategies[definition.variable.name.value] = values(type_, junk=junk)  # type: ignore[arg-type]
    return st.fixed_dictionaries({}, optional=strategies)


# ---------------------------------------------------------------------------------------------------- tests


CONSOLE_OPERATIONS = operations()


@pytest.mark.parametrize(("name", "operation"), CONSOLE_OPERATIONS, ids=[name for name, _ in CONSOLE_OPERATIONS])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_console_documents(name: str, operation: OperationDefinitionNode, data: st.DataObject) -> None:
    check(operation, data.draw(variables(operation)))


def test_the_console_documents_have_variables_to_coerce() -> None:
    assert {name for name, operation in CONSOLE_OPERATIONS if operation.variable_definitions} >= {
        "CasesPage",
        "SubmitReport",
        "SubmitReports",
        "DecideCase",
        "ClaimNextCase",
    }


def input_types() -> list[str]:
    named = schema().type_map.values()
    return sorted(t.name for t in named if isinstance(t, GraphQLInputObjectType) and not t.name.startswith("__"))


def sweep(type_name: str) -> OperationDefinitionNode:
    """An operation with variables of ``type_name``: nullable, non-null, a non-null list of it, a nullable list."""
    document: DocumentNode = parse(
        f"query Sweep($a: {type_name}, $b: {type_name}!, $c: [{type_name}!]!, $d: [{type_name}]) {{ __typename }}"
    )
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation


SWEEPS = {name: sweep(name) for name in input_types()}


@pytest.mark.parametrize("type_name", sorted(SWEEPS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_input_type(type_name: str, data: st.DataObject) -> None:
    operation = SWEEPS[type_name]
    check(operation, data.draw(variables(operation)))


@pytest.mark.parametrize("type_name", sorted(SWEEPS))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_valid_values_take_the_fast_path(type_name: str, data: st.DataObject) -> None:
    """Values built to be valid: where graphql-core coerces them (a generated string may still not parse as a
    DateTime...), so does the compiled function: it does not give up on ordinary input."""
    operation = SWEEPS[type_name]
    raw = data.draw(variables(operation, junk=False))
    got = compiled(operation)(raw)
    coerced = check(operation, raw)
    assert coerced == (got is not None)


SCALAR_DEFAULTS = parse(
    """
    query Defaults(
      $int: Int = 3, $float: Float = 1, $string: String = "s", $list: [Int] = 4, $enum: Region = EU,
      $nothing: String = null, $required: Int! = 5, $object: CaseFilter = {region: EU}, $plain: Int, $id: ID
    ) { __typename }
    """
).definitions[0]
assert isinstance(SCALAR_DEFAULTS, OperationDefinitionNode)


@settings(max_examples=200, deadline=None)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(st.none(), JUNK)
            for name in ("int", "float", "string", "list", "enum", "nothing", "required", "object", "plain", "id")
        },
    )
)
def test_variable_defaults_null_and_absent(data: dict[str, Any]) -> None:
    check(SCALAR_DEFAULTS, data)


def test_a_variable_default_is_a_fresh_value_each_time() -> None:
    coerce = compiled(SCALAR_DEFAULTS)
    first, second = coerce({}), coerce({})
    assert first.coerced["list"] == [4]
    assert first.coerced["list"] is not second.coerced["list"]  # graphql-core coerces it anew per request
    assert first.coerced["object"]["region"].name == "EU"
    assert "plain" not in first.coerced
    assert "nothing" in first.coerced


RECURSIVE = parse("query Deep($v: [[[[Int]]]], $n: Float) { __typename }").definitions[0]
assert isinstance(RECURSIVE, OperationDefinitionNode)


def test_nested_lists_single_values_and_numbers() -> None:
    for raw in (
        {"v": 1},
        {"v": [1, [2, [3, [4]]]]},
        {"v": [[[[None]]]]},
        {"v": [[[["x"]]]]},
        {"v": [[[[2**31]]]]},
        {"v": [[[[2.0]]]]},
        {"v": [[[[True]]]]},
        {"n": math.nan},
        {"n": math.inf},
        {"n": 2**80},
        {"n": 3},
        {"n": "3"},
        {"n": None},
    ):
        check(RECURSIVE, raw)


def _coercer(operation: OperationDefinitionNode) -> Any:
    return compile_variables(schema(), operation)


def test_the_executor_is_built_as_build_builds_it() -> None:
    """``build_executor`` holds the same state as ``Executor.build`` for the same request (the variables' sources
    and values compared above; the per-instance helpers aside)."""
    document = parse((CONSOLE / "CasesPage.graphql").read_text())
    raw = {"first": 5, "filter": {"region": "EU"}}
    kwargs: dict[str, Any] = {"middleware": MiddlewareManager(), "hide_suggestions": True}
    built = Executor.build(schema(), document, None, {"c": 1}, raw, "CasesPage", **kwargs)
    fast = build_executor(
        Executor,
        schema(),
        document,
        None,
        {"c": 1},
        raw,
        "CasesPage",
        kwargs,
        lambda op: compile_variables(schema(), op),
    )
    assert isinstance(built, Executor)
    assert fast is not None
    state, fast_state = vars(built), vars(fast)
    assert set(state) == set(fast_state)
    per_instance = {"async_helpers", "collected_errors", "variable_values", "is_awaitable", "is_async_iterable"}
    for key in set(state) - per_instance:
        assert repr(state[key]) == repr(fast_state[key]), key
    assert typed(built.variable_values.coerced) == typed(fast.variable_values.coerced)
    assert type(built.is_awaitable) is type(fast.is_awaitable)


@pytest.mark.parametrize(
    ("operation_name", "raw"),
    [
        ("Nope", {"first": 5}),  # no such operation: build says so
        ("CasesPage", {"first": "five"}),  # refused variables: build reports them
        ("CasesPage", {}),  # a required variable missing
    ],
)
def test_build_reports_what_the_fast_build_leaves_to_it(operation_name: str, raw: dict[str, Any]) -> None:
    document = parse((CONSOLE / "CasesPage.graphql").read_text())
    fast = build_executor(Executor, schema(), document, None, None, raw, operation_name, {}, _coercer)
    assert fast is None
    assert isinstance(Executor.build(schema(), document, None, None, raw, operation_name), list)


def _datetime_scalar() -> Any:
    return schema().type_map["DateTime"].coerce_input_value  # type: ignore[union-attr]


OFFSETS = st.builds(
    lambda sign, hours, minutes: f"{sign}{hours:02d}:{minutes:02d}",
    st.sampled_from("+-"),
    st.integers(0, 25),
    st.integers(0, 61),
)
ISO_TEXT = st.one_of(
    st.from_regex(_ISO_DATETIME, fullmatch=True),
    st.builds(
        lambda moment, fraction, zone: moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
        st.sampled_from(["", ".5", ".123", ".123456", ".1234567", ",5"]),
        st.one_of(st.sampled_from(["Z", "z", "", "+00:00", "-00:00", "+0200", "+02"]), OFFSETS),
    ),
    st.sampled_from(["2026-12-01T24:00:00Z", "2026-02-30T10:00:00Z", "2026-12-01T10:00:60Z", "2026-12-01 10:00:00Z"]),
    st.text(alphabet="0123456789-:T.Z+ ٣", max_size=26),
)


@settings(max_examples=400, deadline=None)
@given(text=ISO_TEXT)
def test_the_datetime_shortcut_answers_what_isoparse_answers(text: str) -> None:
    coerce = _datetime_scalar()
    assert _parses_with(coerce, isoparse)
    fast = _iso_datetime(coerce)
    try:
        expected = coerce(text)
    except Exception as error:
        with pytest.raises(type(error)):
            fast(text)
        return
    got = fast(text)
    assert typed(got) == typed(expected)
    assert got.utcoffset() == expected.utcoffset()
    assert type(got.tzinfo) is type(expected.tzinfo)


SYNTHETIC = build_graphql_schema(
    """
    input One @oneOf { a: Int, b: String }
    input Tree { value: Int = 7, label: String! = "leaf", children: [Tree!] }
    enum Color { RED GREEN }
    type Query { x: Int }
    """
)
SYNTHETIC_OPERATION = parse("query S($o: One, $t: Tree, $c: [Color!] = [RED]) { x }").definitions[0]
assert isinstance(SYNTHETIC_OPERATION, OperationDefinitionNode)
SYNTHETIC_COERCE = compile_variables(SYNTHETIC, SYNTHETIC_OPERATION)
TREES = st.recursive(
    st.fixed_dictionaries({}, optional={"value": st.one_of(st.integers(-5, 5), JUNK), "label": st.text(max_size=2)}),
    lambda inner: st.fixed_dictionaries(
        {}, optional={"value": st.integers(-5, 5), "children": st.one_of(st.lists(inner, max_size=3), inner, JUNK)}
    ),
    max_leaves=6,
)


def _synthetic(raw: dict[str, Any]) -> None:
    expected = get_variable_values(SYNTHETIC, SYNTHETIC_OPERATION.variable_definitions or (), raw)
    got = SYNTHETIC_COERCE(raw)
    if isinstance(expected, list):
        assert got is None, raw
    else:
        assert got is not None, raw
        assert typed(got.coerced) == typed(expected.coerced)


@settings(max_examples=200, deadline=None)
@given(
    raw=st.fixed_dictionaries(
        {},
        optional={
            "o": st.one_of(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.one_of(st.none(), JUNK), max_size=3)),
            "t": st.one_of(TREES, JUNK),
            "c": st.one_of(st.sampled_from(["RED", "GREEN", "BLUE"]), st.lists(st.sampled_from(["RED", "x"])), JUNK),
        },
    )
)
def test_one_of_recursive_inputs_and_enums_on_a_schema_of_their_own(raw: dict[str, Any]) -> None:
    _synthetic(raw)


def test_input_nested_too_deeply_is_left_to_graphql_core() -> None:
    tree: dict[str, Any] = {"value": 1}
    for _ in range(120):  # two levels each (the object, its list): past graphql-core's 200
        tree = {"children": [tree]}
    assert SYNTHETIC_COERCE({"t": tree}) is None
    assert isinstance(get_variable_values(SYNTHETIC, SYNTHETIC_OPERATION.variable_definitions or (), {"t": tree}), list)
    shallow: dict[str, Any] = {"value": 1}
    for _ in range(20):
        shallow = {"children": shallow}  # a single value for the list, each level
    _synthetic({"t": shallow})


def test_one_of_takes_exactly_one_non_null_field() -> None:
    for raw in ({"o": {"a": 1}}, {"o": {"b": "x"}}, {"o": {"a": 1, "b": "x"}}, {"o": {"a": None}}, {"o": {}}):
        _synthetic(raw)
    accepted = SYNTHETIC_COERCE({"o": {"a": 1}})
    assert accepted is not None
    assert accepted.coerced == {"o": {"a": 1}, "c": ["RED"]}
    assert SYNTHETIC_COERCE({"o": {"a": 1, "b": "x"}}) is None
    assert SYNTHETIC_COERCE({"o": {"a": None}}) is None
