"""The fast JSON paths of a request (orjson decoding, the container-only depth walk, the one-encoding variables
check) against the reference each replaces, on the same generated inputs: every answer must be the same."""

from __future__ import annotations

import contextvars
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from api.graphql.limits.characters import first_unstorable, unstorable_variable
from api.graphql.limits.json_values import decode, fast_json_loads, json_depth, remember_checked, was_checked

# Strings with what PostgreSQL refuses (NUL, unpaired surrogates) and what merely looks like it (a written \u0000).
TEXT = st.text(alphabet=st.sampled_from(["a", "é", "\x00", "\ud800", "\udfff", "\\", "u", "0", '"', "😀"]), max_size=6)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=30,
)


def reference_depth(value: object) -> int:
    """The definition: a scalar is 0, a container one more than its deepest child (an empty one: 0 more)."""
    if isinstance(value, dict):
        return max((1 + reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((1 + reference_depth(v) for v in value), default=0)
    return 0


def same(a: Any, b: Any) -> bool:
    """Equal values, NaN equal to NaN and a float never equal to an int (types must agree too)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_the_depth_walk_is_the_definition(value: Any) -> None:
    assert json_depth(value) == reference_depth(value)


@settings(max_examples=400, deadline=None)
@given(VALUES, st.sampled_from([" ", "", "\n"]))
def test_fast_decoding_gives_what_the_standard_library_gives(value: Any, space: str) -> None:
    text = json.dumps(value, separators=("," + space, ":" + space))
    expected = json.loads(text)
    assert same(fast_json_loads(text), expected)


def test_what_orjson_reads_otherwise_is_decoded_by_the_standard_library() -> None:
    for text in ["18446744073709551616", "-9223372036854775809", "[1e400]", "NaN", '"\\ud800"', '{"a": Infinity}']:
        assert same(fast_json_loads(text), json.loads(text)), text
    for bad in ["[1,2", "{}x", '"\t"', ""]:
        try:
            json.loads(bad)
        except ValueError:
            pass
        else:  # pragma: no cover - the inputs are all malformed
            raise AssertionError(bad)
        try:
            fast_json_loads(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} decoded")


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "input"]), VALUES, min_size=1, max_size=3), st.integers(1, 6))
def test_the_variables_check_answers_as_the_walk_does(variables: dict[str, Any], max_depth: int) -> None:
    fast, walked = unstorable_variable(variables, max_depth), first_unstorable(variables, max_depth)
    assert (fast is None) == (walked is None)
    if fast is not None and walked is not None:
        assert (fast.message, fast.extensions) == (walked.message, walked.extensions)


@settings(max_examples=400, deadline=None)
@given(VALUES, st.sampled_from([" ", ""]))
def test_decode_gives_the_value_its_depth_and_whether_it_is_plain(value: Any, space: str) -> None:
    """``decode``'s one walk: the standard library's value, the reference depth, and ``plain`` only for a value with
    nothing PostgreSQL cannot store (what lets the variables check skip it)."""
    text = json.dumps(value, separators=("," + space, ":" + space))
    decoded, depth, plain = decode(text)
    expected = json.loads(text)
    assert same(decoded, expected)
    assert depth == reference_depth(expected)
    if plain:
        assert first_unstorable({"v": decoded}, depth + 1) is None


def test_a_long_integer_beside_floats_is_the_standard_library_s_and_not_plain() -> None:
    for text in ["[1.5, 123456789012345678901]", '{"a": 0.25, "b": "x", "c": [18446744073709551616]}']:
        value, depth, plain = decode(text)
        assert same(value, json.loads(text))
        assert not plain
        assert depth == reference_depth(value)
    # a long run of digits in a string, no float anywhere: orjson's value is the same, and kept
    value, _, plain = decode('{"id": "12345678901234567890123"}')
    assert value == {"id": "12345678901234567890123"}
    assert plain
    assert not decode('["\\u0000"]')[2]


def test_only_the_checked_values_and_their_variables_are_skipped() -> None:
    def run() -> None:
        body = {"query": "q", "variables": {"a": ["\x00"]}}  # as if checked: the skip trusts the mark, nothing else
        twin = {"a": ["\x00"]}
        assert unstorable_variable(body["variables"], 8) is not None
        remember_checked(body)
        assert was_checked(body["variables"])
        assert unstorable_variable(body["variables"], 8) is None
        assert not was_checked(twin)
        assert unstorable_variable(twin, 8) is not None

    contextvars.Context().run(run)
    assert not was_checked({"a": 1})  # another context (another request) sees none of them


def test_one_context_holds_only_the_last_checked_value() -> None:
    """A context serving request after request (a test client's, an in-process caller's) keeps nothing older."""

    def run() -> None:
        first, second = {"variables": {"a": 1}}, {"variables": {"a": 1}}
        remember_checked(first)
        remember_checked(second)
        assert was_checked(second["variables"])
        assert not was_checked(first["variables"])

    contextvars.Context().run(run)
