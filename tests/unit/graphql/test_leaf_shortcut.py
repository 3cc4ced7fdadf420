"""The executor's shortcut for plain leaf fields answers exactly what graphql-core answers, errors included."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry

from api.graphql.execution import execution_context_for, leaf_plans


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str
    nickname: str | None
    colour: Colour
    count: int
    seen_at: datetime

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


ITEMS: list[Any] = []


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return ITEMS


QUERY = "{ items { name nickname colour count seenAt shout } }"


def _run(shortcut: bool) -> tuple[Any, list[tuple[str, tuple[Any, ...]]]]:
    schema = strawberry.Schema(query=Query)
    if shortcut:
        schema.execution_context_class = execution_context_for(schema._schema)
    result = schema.execute_sync(QUERY)
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors


def _item(**changes: Any) -> Any:
    values: dict[str, Any] = {
        "name": "a",
        "nickname": None,
        "colour": Colour.RED,
        "count": 3,
        "seen_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    return Item(**{**values, **changes})


@pytest.mark.parametrize(
    "items",
    [
        [_item(), _item(name="b", nickname="bee", colour=Colour.BLUE, count=0)],
        [_item(name=None)],  # null for a non-null field: the error and the nulled parent
        [_item(colour="purple")],  # not a member of the enum
        [_item(count="three")],  # not an Int
        [_item(count=2**40)],  # outside Int's range
        [_item(name=ValueError("boom"))],  # an exception as the value
        [_item(), _item(name=None), _item(nickname=7)],
    ],
    ids=["ordinary", "null", "bad enum", "bad int", "huge int", "exception", "mixed"],
)
def test_the_shortcut_answers_as_graphql_core(items: list[Any]) -> None:
    ITEMS[:] = items
    try:
        assert _run(shortcut=True) == _run(shortcut=False)
    finally:
        ITEMS.clear()


def test_only_plain_leaf_fields_take_the_shortcut() -> None:
    plans = leaf_plans(strawberry.Schema(query=Query)._schema)
    assert set(plans) == {("Item", n) for n in ("name", "nickname", "colour", "count", "seenAt")}
