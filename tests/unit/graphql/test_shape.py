"""The linear shape check run before graphql-core's rules: what it counts through fragments, and what it leaves to
graphql-core (cycles, unknown fragments), on the schema's own validator."""

from __future__ import annotations

import pytest
from graphql import get_introspection_query, parse

from api.graphql.limits import ShapeLimits, Validator, shape_error
from api.graphql.schema import VigilSchema, build_schema
from api.settings import Settings
from bench.page import PAGE
from tests.security.test_query_cost import CONSOLE_PAGE

LIMITS = ShapeLimits(max_selections=2000, max_aliases=30, max_depth=12)


@pytest.fixture(scope="module")
def validate() -> Validator:
    schema = build_schema(Settings(env="test"))
    assert isinstance(schema, VigilSchema)
    assert isinstance(schema.validate_document, Validator)
    return schema.validate_document


@pytest.mark.parametrize("query", [get_introspection_query(descriptions=True), CONSOLE_PAGE, PAGE])
def test_real_documents_keep_every_limit(validate: Validator, query: str) -> None:
    assert shape_error(parse(query), LIMITS) is None
    assert validate.check(parse(query)) == []


def _message(query: str) -> str | None:
    error = shape_error(parse(query), LIMITS)
    return None if error is None else error.message


def test_aliases_count_at_every_spread() -> None:
    fragment = "fragment A on Query { a: __typename b: __typename c: __typename d: __typename }"
    spreads = lambda n: "{ " + " ".join(f"...A{i}" for i in range(n)) + " } "  # noqa: E731
    defined = lambda n: " ".join(fragment.replace("fragment A ", f"fragment A{i} ") for i in range(n))  # noqa: E731
    assert _message(spreads(7) + defined(7)) is None  # 28 aliases
    assert _message(spreads(8) + defined(8)) == "the document uses more than 30 aliases"
    nested = "{ ...B } fragment B on Query { ...A ...A2 } " + fragment + " " + fragment.replace("A ", "A2 ")
    assert _message(nested) is None
    twice = "{ x: viewer { ...B } y: viewer { ...B } } fragment B on Viewer { " + " ".join(
        f"k{i}: kind" for i in range(15)
    )
    assert _message(twice + " }") == "the document uses more than 30 aliases"  # 2 + 2 x 15


def test_depth_counts_through_fragments_and_introspection_has_its_own() -> None:
    chain = "{ ...F } fragment F on Query { viewer { ...G } } fragment G on Viewer { roles { role } }"
    assert _message(chain) is None
    deep = "{ " + "cases { nodes { reports { case { " * 3 + "id" + " } } } }" * 3 + " }"  # 13 levels
    assert _message(deep) == "'the operation' exceeds maximum operation depth of 12"
    intro = "query I { ...S } fragment S on Query { __schema { types { fields { type { %s name %s }"
    too_deep = intro % ("ofType { " * 11, " }" * 15)  # 16 levels
    assert _message(too_deep) == "'I' exceeds maximum operation depth of 15"
    assert _message(intro % ("ofType { " * 10, " }" * 14)) is None


def test_a_cycle_is_one_error_before_any_walk_through_it(validate: Validator) -> None:
    cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }"
    assert _message(cycle) == "Cannot spread fragment 'A' within itself."
    # ten fragments each spreading the nine others: 10! paths through them, for a walk that only stops at cycles
    names = [f"K{i}" for i in range(10)]
    spreads = lambda me: " ".join(f"...{n}" for n in names if n != me)  # noqa: E731
    clique = "{ ...K0 } " + " ".join(f"fragment {n} on Query {{ __typename {spreads(n)} }}" for n in names)
    [error] = validate.check(parse(clique))
    assert error.message == "Cannot spread fragment 'K0' within itself."


def test_unknown_fragments_are_left_to_graphql_core(validate: Validator) -> None:
    unknown = "{ ...Nowhere }"
    assert _message(unknown) is None
    assert "Unknown fragment 'Nowhere'" in validate.check(parse(unknown))[0].message


def test_unused_fragments_are_one_error() -> None:
    query = "{ __typename } " + " ".join(f"fragment U{i} on Query {{ __typename }}" for i in range(50))
    assert _message(query) == "Fragments never used: 'U0', 'U1', 'U2' (50 in all)."


def test_spreads_into_one_selection_are_bounded() -> None:
    fragments = " ".join(f"fragment F{i} on Viewer {{ id }}" for i in range(21))
    twenty_one = "{ viewer { " + " ".join(f"...F{i}" for i in range(21)) + " } } " + fragments
    assert _message(twenty_one) == "a selection spreads more than 20 fragments"
