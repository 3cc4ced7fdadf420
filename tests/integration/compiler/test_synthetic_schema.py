"""The compiler on a small graphql-core schema whose resolvers misbehave on purpose (nulls in non-null places,
exceptions sync and async, wrong runtime types, values a scalar refuses): what Vigil's own schema never does, so
null propagation and error locations are proven here, against graphql-core's executor; and what falls back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import (
    ExecutionResult,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    execute,
    parse,
)
from graphql.execution.executor import Executor

from api import trusted_documents
from api.graphql.compiler import CompiledExecution
from api.graphql.compiler.plan import Unsupported, check_document
from domain.document import TrustedDocument, document_id


async def _later(value: Any) -> Any:
    await asyncio.sleep(0)
    if isinstance(value, Exception):
        raise value
    return value


def _raise(message: str) -> Any:
    raise ValueError(message)


Item: GraphQLObjectType = GraphQLObjectType(
    "Item",
    lambda: {
        "name": GraphQLField(GraphQLNonNull(GraphQLString), resolve=lambda s, _i: s.get("name")),
        "size": GraphQLField(GraphQLInt, resolve=lambda s, _i: s.get("size")),
        "later": GraphQLField(GraphQLNonNull(GraphQLString), resolve=lambda s, _i: _later(s.get("later"))),
        "child": GraphQLField(Item, resolve=lambda s, _i: s.get("child")),
    },
    is_type_of=lambda value, _info: isinstance(value, dict) and "name" in value,
)
Other = GraphQLObjectType("Other", {"code": GraphQLField(GraphQLString, resolve=lambda s, _i: s["code"])})
Thing = GraphQLUnionType(
    "Thing", [Item, Other], resolve_type=lambda value, _i, _t: value.get("__kind") if isinstance(value, dict) else None
)
ITEMS: list[dict[str, Any]] = [
    {"name": "a", "size": 1, "later": "x", "child": {"name": "b", "later": None}},
    {"name": None, "size": "big", "later": ValueError("late failure")},
    {"name": "c", "size": 3, "later": "z", "child": None},
]
Query = GraphQLObjectType(
    "Query",
    {
        "items": GraphQLField(GraphQLList(Item), resolve=lambda *_: ITEMS),
        "strict": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(Item))), resolve=lambda *_: ITEMS),
        "asyncItems": GraphQLField(GraphQLList(Item), resolve=lambda *_: _later(ITEMS)),
        "awaitedList": GraphQLField(GraphQLList(Item), resolve=lambda *_: [_later(i) for i in ITEMS]),
        "boom": GraphQLField(GraphQLString, resolve=lambda *_: _raise("boom")),
        "sized": GraphQLField(GraphQLString, args={}, resolve=lambda *_: 12),
        "things": GraphQLField(
            GraphQLList(Thing),
            resolve=lambda *_: [{"__kind": "Item", **ITEMS[0]}, {"__kind": "Other", "code": "o"}, {"__kind": "Nope"}],
        ),
        "wrong": GraphQLField(Item, resolve=lambda *_: {"no": "name"}),
        "notAList": GraphQLField(GraphQLList(Item), resolve=lambda *_: 7),
    },
)
SCHEMA = GraphQLSchema(Query)

DOCUMENTS = [
    "{ items { name size later child { name later } } }",
    "{ strict { name } boom }",
    "{ asyncItems { name later } awaitedList { name size } }",
    "{ things { __typename ... on Item { name size } ... on Other { code } } }",
    "query Q($c: Boolean!) { items { name @include(if: $c) size @skip(if: $c) child { name } } wrong { name } }",
    "{ notAList { name } sized a: boom b: items { name } }",
    "{ items { ...F ...F } } fragment F on Item { name child { ...F2 } } fragment F2 on Item { later }",
]


def _formatted(result: Any) -> Any:
    assert isinstance(result, ExecutionResult)
    return result.formatted


async def _run(compiled: CompiledExecution, text: str, variables: dict[str, Any]) -> tuple[Any, Any]:
    document = parse(text)
    ordinary = execute(SCHEMA, document, variable_values=variables, executor_class=Executor)
    if asyncio.iscoroutine(ordinary):
        ordinary = await ordinary
    token = trusted_documents._trusted.set(TrustedDocument(document_id(text), "doc", text))
    try:
        result = compiled(SCHEMA, document, variable_values=variables, executor_class=Executor)
        if asyncio.iscoroutine(result):
            result = await result
    finally:
        trusted_documents._trusted.reset(token)
    return _formatted(ordinary), _formatted(result)


@pytest.mark.parametrize("text", DOCUMENTS)
async def test_misbehaving_resolvers_answer_as_graphql_core_does(text: str) -> None:
    compiled = CompiledExecution(SCHEMA, timeout=10.0)
    for variables in ({"c": True}, {"c": False}):
        ordinary, result = await _run(compiled, text, variables)
        assert result == ordinary
        assert ordinary.get("errors") or "$c" in text or "things" not in text
    assert compiled.compiled >= 1
    assert not compiled.fallbacks


async def test_null_in_a_non_null_place_propagates() -> None:
    compiled = CompiledExecution(SCHEMA, timeout=10.0)
    ordinary, result = await _run(compiled, "{ strict { name } boom }", {})
    assert result == ordinary
    assert result["data"] is None  # strict is [Item!]!: a null name nulls the item, the list, then the root
    assert [e["path"] for e in result["errors"]] == [["strict", 1, "name"]]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{ items { ... @defer { name } } }", "@defer"),
        ("{ items @stream { name } }", "@stream"),
        ("query @experimental_disableErrorPropagation { items { name } }", "@experimental_disableErrorPropagation"),
    ],
)
def test_what_the_compiler_leaves_to_graphql_core(text: str, reason: str) -> None:
    with pytest.raises(Unsupported, match=reason):
        check_document(parse(text))


async def test_subscriptions_run_on_graphql_core() -> None:
    subscription = GraphQLObjectType("Subscription", {"tick": GraphQLField(GraphQLInt)})
    schema = GraphQLSchema(Query, subscription=subscription)
    compiled = CompiledExecution(schema, timeout=10.0)
    text = "subscription { tick }"
    token = trusted_documents._trusted.set(TrustedDocument(document_id(text), "doc", text))
    try:
        result = compiled(schema, parse(text), executor_class=Executor)
        if asyncio.iscoroutine(result):
            result = await result
    finally:
        trusted_documents._trusted.reset(token)
    assert compiled.fallbacks == {"subscriptions": 1}
    assert compiled.compiled == 0
    assert isinstance(result, ExecutionResult)
