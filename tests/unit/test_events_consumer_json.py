"""A consumed message's JSON: ``message_json`` (orjson where it agrees) decodes what ``json.loads`` decodes, to the
same value, and refuses what it refuses."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.services.events_consumer import message_json, parse_message

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec="utf-8") | st.sampled_from(['"', "\\", "\x00", "\u2028", "\ud800"]))
)
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
)

_EDGES = [
    b'{"a": NaN, "b": Infinity, "c": -Infinity}',
    b'{"n": 1e400}',
    b'{"n": 12345678901234567890}',
    b'{"s": "12345678901234567890"}',
    b'{"s": "\\ud800"}',
    b'{"a": 1, "a": 2}',
    b"\xef\xbb\xbf{}",
    '{"x": "é"}'.encode("utf-16"),
    '{"x": "é"}'.encode("utf-16-le"),
    '{"x": "é"}'.encode("utf-32"),
    b'{"x": "\xff"}',
    b"",
    b"  [1, 2.50, -0, -0.0, 1E2]  ",
    b"[1,]",
    b'{"x": 1} x',
    b"\x00{}",
    b"[" * 5000 + b"]" * 5000,
]


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types all the way down (NaN equal to NaN, 1 not equal to 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _outcome(loads: Any, data: bytes) -> Any:
    try:
        return ("value", loads(data))
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc))


def _check(data: bytes) -> None:
    expected, got = _outcome(json.loads, data), _outcome(message_json, data)
    assert expected[0] == got[0], (data[:80], expected, got)
    if expected[0] == "value":
        assert _same(got[1], expected[1]), data[:80]


@pytest.mark.parametrize("data", _EDGES)
def test_edge_messages_decode_as_json_loads_decodes_them(data: bytes) -> None:
    _check(data)


@settings(max_examples=400, deadline=None)
@given(value=_VALUES, ascii_only=st.booleans(), indent=st.sampled_from([None, 1]))
def test_messages_decode_as_json_loads_decodes_them(value: Any, ascii_only: bool, indent: int | None) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    try:
        data = text.encode()
    except UnicodeEncodeError:  # a lone surrogate kept as itself: not UTF-8, json.loads refuses it too
        data = text.encode("utf-8", "surrogatepass")
    _check(data)


def test_a_message_with_a_long_integer_keeps_it_exact() -> None:
    body = (
        b'{"type": "content.posted", "region": "US", "entities": {"account": "u-1"}, '
        b'"attributes": {"n": 123456789012345678901}, "occurredAt": "2026-12-06T09:00:00+00:00", "idempotencyKey": "k"}'
    )
    command = parse_message(body, None, 0)
    assert not isinstance(command, Exception)
    assert command.attributes == {"n": 123456789012345678901}
