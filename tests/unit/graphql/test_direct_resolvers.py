"""Plain resolvers called directly answer exactly what strawberry's resolver pipeline answers, errors included,
and fields with arguments, permission classes or field extensions keep strawberry's pipeline."""

from __future__ import annotations

import asyncio
import enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission

from api.graphql.execution import install_direct_resolvers


class Never(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


class Shout(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str | None

    @strawberry.field
    def greeting(self, info: strawberry.Info) -> str:
        return f"{self.name} from {info.context['where']} at {'.'.join(map(str, info.path.as_list()))}"

    @strawberry.field
    def length(self) -> int:
        if self.name is None:
            raise ValueError("no name to measure")
        return len(self.name)

    @strawberry.field
    def twin(self) -> Item | None:
        return Item(name=self.name)

    @strawberry.field
    def required(self) -> str:
        return self.name  # type: ignore[return-value]  # None here: the non-null error and the nulled parent

    @strawberry.field
    async def later(self, info: strawberry.Info) -> str:
        await asyncio.sleep(0)
        return f"{self.name} later"

    @strawberry.field
    @staticmethod
    def by_root(root: Item) -> str:
        return f"root {root.name}"

    @strawberry.field
    def repeated(self, times: int) -> str:
        return (self.name or "") * times

    @strawberry.field
    def padded(self, min_width: int = 5, fill: str | None = None, upper: bool = False) -> str:
        text = (self.name or "").rjust(min_width, fill or ".")
        return text.upper() if upper else text

    @strawberry.field
    def tagged(self, tag: strawberry.ID, weight: float | None = None) -> str:
        return f"{tag}:{weight}"

    @strawberry.field
    def joined(self, parts: list[str]) -> str:
        return "+".join(parts)

    @strawberry.field
    def coloured(self, colour: Colour = Colour.RED) -> str:
        return f"{colour.value} {self.name}"

    @strawberry.field(permission_classes=[Never])
    def secret(self) -> str | None:
        return "hidden"

    @strawberry.field(extensions=[Shout()])
    def loud(self) -> str:
        return self.name or ""


ITEMS: list[Item] = []


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return ITEMS


QUERY = """{ items { name greeting length twin { name length } required later byRoot repeated(times: 2)
  secret loud padded a: padded(minWidth: 7, fill: null, upper: true) b: padded(fill: "-") tagged(tag: 4)
  c: tagged(tag: "x", weight: 1.5) joined(parts: ["a", "b"]) coloured d: coloured(colour: BLUE) } }"""


def _run(direct: bool) -> tuple[Any, list[tuple[str, tuple[Any, ...]]], list[tuple[str, str]]]:
    schema = strawberry.Schema(query=Query)
    changed = install_direct_resolvers(schema) if direct else []
    result = asyncio.run(schema.execute(QUERY, context_value={"where": "here"}))
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors, changed


@pytest.mark.parametrize(
    "items",
    [[Item(name="ann"), Item(name="bo")], [Item(name=None)], [Item(name="ann"), Item(name=None)]],
    ids=["ordinary", "errors", "mixed"],
)
def test_direct_resolvers_answer_as_strawberry(items: list[Item]) -> None:
    ITEMS[:] = items
    try:
        data, errors, _ = _run(direct=True)
        assert (data, errors) == _run(direct=False)[:2]
    finally:
        ITEMS.clear()


def test_only_plain_resolvers_are_called_directly() -> None:
    ITEMS[:] = [Item(name="ann")]
    try:
        _, _, changed = _run(direct=True)
    finally:
        ITEMS.clear()
    # not: `joined` (a list argument), `coloured` (an enum argument), `secret` (a permission class), `loud` (a
    # field extension), `name` (no resolver of ours: the leaf shortcut's business)
    plain = ("greeting", "length", "twin", "required", "later", "byRoot", "repeated", "padded", "tagged")
    assert set(changed) == {("Query", "items"), *(("Item", f) for f in plain)}
