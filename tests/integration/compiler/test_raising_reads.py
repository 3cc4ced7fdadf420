"""A plain leaf field whose attribute read raises (a record missing an attribute, a property that fails) is
reported at that field, as graphql-core reports it: its own path, null there (or up to the nearest nullable
parent), its siblings kept. Both of Vigil's executors read plain leaves on a shortcut (the ad hoc one in
``api.graphql.execution``, the compiled plans in ``api.graphql.compiler``); each is held to graphql-core's own
executor on the same schema and values."""

from __future__ import annotations

import json

import pytest
import strawberry

from api.graphql.compiler import install_compiled_execution
from api.graphql.execution import execution_context_for
from api.graphql.internals import core_schema
from tests.integration.compiler.test_strawberry_classes import _trusted


@strawberry.type
class Card:
    name: str | None
    size: int


def _cards() -> list[Card]:
    whole, nameless, sizeless = Card(name="a", size=1), Card(name="b", size=2), Card(name="c", size=3)
    del nameless.name  # reading it raises AttributeError
    del sizeless.size  # a non-null field: the error nulls the card
    return [whole, nameless, sizeless]


@strawberry.type
class Query:
    @strawberry.field
    def cards(self) -> list[Card | None]:
        return _cards()

    @strawberry.field
    def strict(self) -> list[Card]:
        return _cards()[:2]

    other: int = 7


DOCUMENTS = [
    "{ cards { name size } other }",
    "{ cards { size name } }",
    "{ strict { name } other }",
    "{ strict { size name } }",
]


async def _answer(schema: strawberry.Schema, text: str, *, trusted: bool = False) -> str:
    if trusted:
        with _trusted(text):
            result = await schema.execute(text, root_value=Query())
    else:
        result = await schema.execute(text, root_value=Query())
    errors = [e.formatted for e in result.errors or ()]
    return json.dumps({"data": result.data, "errors": errors}, sort_keys=True)


@pytest.mark.parametrize("text", DOCUMENTS)
async def test_a_raising_read_is_reported_at_its_field_by_both_shortcuts(text: str) -> None:
    reference = strawberry.Schema(query=Query)  # graphql-core's executor, no shortcut
    expected = await _answer(reference, text)
    assert '"path": ["' in expected  # an error with a path: what is compared is where it is located

    adhoc = strawberry.Schema(query=Query)
    adhoc.execution_context_class = execution_context_for(core_schema(adhoc))
    assert await _answer(adhoc, text) == expected

    compiled = strawberry.Schema(query=Query)
    plans = install_compiled_execution(compiled, timeout=10.0)
    assert await _answer(compiled, text, trusted=True) == expected
    assert plans.compiled == 1
    assert not plans.fallbacks
