"""The compiled plans keep strawberry's union and ``is_type_of`` answers per class (``api.graphql.compiler.classes``);
here, on a small strawberry schema, values of one class that must answer differently (cast, impostors carrying
another type's definition, specializations of one generic, subclasses) come after a value that taught the plan its
class, and the compiled answer must be graphql-core's, byte for byte, in every order."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Generic, TypeVar

import pytest
import strawberry
from graphql import GraphQLUnionType

from api import trusted_documents
from api.graphql.compiler import CompiledExecution, install_compiled_execution
from api.graphql.compiler.classes import is_type_of_holds, union_member
from api.graphql.internals import core_schema
from domain.document import TrustedDocument, document_id

T = TypeVar("T")


@strawberry.type
class Alpha:
    name: str
    size: int = 1


@strawberry.type
class Beta:
    name: str
    size: int = 2


class AlphaChild(Alpha):
    """Not decorated: Alpha's definition, so Alpha's answer."""


@strawberry.type
class Gamma(Alpha):
    """Decorated: a type of its own."""

    extra: int = 3


class Impostor:
    """Carries Beta's definition without being a Beta: the union answers Beta, graphql-core then completes it."""

    __strawberry_definition__ = Beta.__strawberry_definition__  # type: ignore[attr-defined]

    def __init__(self, name: str) -> None:
        self.name = name
        self.size = 9


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Dog(Named):
    barks: bool = True
    lives: int = 1  # a Dog cast to Cat completes as a Cat (its leaves read as plain attributes)


@strawberry.type
class Cat(Named):
    lives: int = 9


class DogImpostor:
    """Dog's definition, not a Named nor a Dog: Dog's ``is_type_of`` (strawberry's isinstance) refuses it."""

    __strawberry_definition__ = Dog.__strawberry_definition__  # type: ignore[attr-defined]

    def __init__(self, name: str) -> None:
        self.name = name
        self.barks = False
        self.lives = 0


@strawberry.type
class Box(Generic[T]):
    item: T


@strawberry.type
class Counter:
    value: int


NUMBERS: list[Any] = [1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, True, 3.0, 10**40]
"""Ints within and past 32 bits, a bool and a float: graphql-core's ``Int`` answers each (or refuses it)."""


Thing = Annotated[Alpha | Beta | Gamma, strawberry.union("Thing")]
Pet = Annotated[Dog | Cat, strawberry.union("Pet")]
Boxed = Annotated[Box[int] | Box[str], strawberry.union("Boxed")]


def _reassigned(name: str) -> Alpha:
    """An Alpha carrying Beta's definition on itself: strawberry answers Beta for it, not its class's Alpha."""
    value = Alpha(name=name)
    value.__strawberry_definition__ = Beta.__strawberry_definition__  # type: ignore[attr-defined]
    return value


def _things() -> list[Any]:
    return [
        Alpha(name="a"),
        strawberry.cast(Beta, Alpha(name="cast to Beta")),
        AlphaChild(name="child"),
        Gamma(name="g"),
        Beta(name="b"),
        Impostor("impostor"),
        Alpha(name="again"),
        _reassigned("reassigned"),
    ]


def _pets() -> list[Any]:
    return [
        Dog(name="d"),
        strawberry.cast(Cat, Dog(name="dog cast to Cat")),
        strawberry.cast(Named, Dog(name="dog cast to Named")),
        Cat(name="c"),
        DogImpostor("dog impostor"),
        Dog(name="again"),
    ]


ORDERS: list[list[int]] = []


def _ordered(values: list[Any]) -> list[Any]:
    order = ORDERS[-1] if ORDERS else list(range(len(values)))
    return [values[i] for i in order if i < len(values)]


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return _ordered(_things())

    @strawberry.field
    async def later_things(self) -> list[Thing]:
        return _ordered(_things())

    @strawberry.field
    def pets(self) -> list[Pet | None]:
        return _ordered(_pets())

    @strawberry.field
    def dogs(self) -> list[Dog | None]:
        return _ordered(
            [Dog(name="d"), strawberry.cast(Cat, Dog(name="cast to Cat")), DogImpostor("impostor"), Dog(name="e")]
        )

    @strawberry.field
    def counters(self) -> list[Counter | None]:
        return [Counter(value=n) for n in NUMBERS]

    @strawberry.field
    def numbers(self) -> list[int | None]:
        return list(NUMBERS)

    @strawberry.field
    def boxes(self) -> list[Boxed]:
        return _ordered([Box(item=1), Box(item="one"), Box(item=2), Box(item="two")])


DOCUMENTS = [
    "{ things { __typename ... on Alpha { name size } ... on Beta { name size } ... on Gamma { extra } } }",
    "{ laterThings { __typename ... on Alpha { name } ... on Beta { size } } }",
    "{ pets { __typename ... on Named { name } ... on Dog { barks } ... on Cat { lives } } }",
    "{ dogs { __typename name barks } }",
    "{ boxes { __typename ... on IntBox { item } ... on StrBox { s: item } } }",
    "{ counters { value } numbers }",
]


@contextmanager
def _trusted(text: str) -> Iterator[None]:
    token = trusted_documents._trusted.set(TrustedDocument(document_id(text), "doc", text))
    try:
        yield
    finally:
        trusted_documents._trusted.reset(token)


async def _answer(schema: strawberry.Schema, text: str, *, trusted: bool) -> str:
    if trusted:
        with _trusted(text):
            result = await schema.execute(text)
    else:
        result = await schema.execute(text)
    errors = [e.formatted for e in result.errors or ()]
    return json.dumps({"data": result.data, "errors": errors}, sort_keys=True)


@pytest.fixture
def setup() -> Iterator[tuple[strawberry.Schema, CompiledExecution]]:
    schema = strawberry.Schema(query=Query)
    compiled = install_compiled_execution(schema, timeout=10.0)
    yield schema, compiled
    ORDERS.clear()


@pytest.mark.parametrize("text", DOCUMENTS)
async def test_answers_kept_per_class_are_graphql_cores(
    text: str, setup: tuple[strawberry.Schema, CompiledExecution]
) -> None:
    schema, compiled = setup
    for order in itertools.islice(itertools.permutations(range(8)), 0, 40320, 811):  # ~50 orders, each class first
        ORDERS.append(list(order))
        assert await _answer(schema, text, trusted=True) == await _answer(schema, text, trusted=False), order
    assert compiled.compiled >= 1
    assert not compiled.fallbacks


async def test_the_plans_keep_classes_and_skip_strawberry(setup: tuple[strawberry.Schema, CompiledExecution]) -> None:
    """The plan takes the kept answer: after the first request, an Alpha is completed without strawberry's union
    resolution (counted), nor is an impostor carrying Beta's definition (strawberry answers Beta for each of them,
    and Beta has no ``is_type_of``); the value cast to Beta still is asked."""
    schema, _ = setup
    text = DOCUMENTS[0]
    union = core_schema(schema).get_type("Thing")
    assert isinstance(union, GraphQLUnionType)
    calls: list[Any] = []
    resolve = union.resolve_type
    assert resolve is not None

    def counting(value: Any, info: Any, type_: Any) -> Any:
        calls.append(value)
        return resolve(value, info, type_)

    await _answer(schema, text, trusted=True)
    union.resolve_type = counting  # the plan compiled above holds the union type, and asks its resolve_type
    try:
        await _answer(schema, text, trusted=True)
    finally:
        union.resolve_type = resolve
    assert [getattr(v, "name", None) for v in calls] == ["cast to Beta", "reassigned"]


def test_what_is_the_class_s_answer() -> None:
    core = core_schema(strawberry.Schema(query=Query))
    thing, pet, boxed = core.get_type("Thing"), core.get_type("Pet"), core.get_type("Boxed")
    dog, cat = core.get_type("Dog"), core.get_type("Cat")
    assert union_member(thing, Alpha(name="a")) == "Alpha"
    assert union_member(thing, AlphaChild(name="a")) == "Alpha"
    assert union_member(thing, Gamma(name="a")) == "Gamma"
    assert union_member(thing, strawberry.cast(Beta, Alpha(name="a"))) is None
    assert union_member(thing, _reassigned("a")) is None
    assert union_member(thing, Dog(name="d")) is None  # not a member: strawberry's error, every time
    assert union_member(pet, Dog(name="d")) == "Dog"
    assert union_member(boxed, Box(item=1)) is None  # specializations of one generic: read from the value
    assert union_member(thing, {"name": "a"}) is None
    assert is_type_of_holds(dog, Dog(name="d"))  # type: ignore[arg-type]
    assert is_type_of_holds(cat, Dog(name="d"))  # type: ignore[arg-type]  # strawberry's: true of any Named
    assert not is_type_of_holds(cat, Alpha(name="a"))  # type: ignore[arg-type]
    assert not is_type_of_holds(dog, DogImpostor("d"))  # type: ignore[arg-type]
    assert not is_type_of_holds(dog, strawberry.cast(Cat, Dog(name="d")))  # type: ignore[arg-type]
