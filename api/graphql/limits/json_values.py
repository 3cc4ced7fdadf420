"""JSON as clients send it: decoded fast, measured for depth, checked for what PostgreSQL cannot store.

orjson decodes a body several times faster than the standard library; where the two could disagree, the standard
library decides, so what a request means never depends on which one ran:

- orjson refuses what ``json`` accepts (``NaN``, ``Infinity``, ``1e400``, an unpaired surrogate escape): ``json``
  decodes it again, and the checks after decoding answer as they always did;
- orjson turns an integer past 64 bits into a float: a decoded value holding a float, from a text holding a run of
  19 digits or more, is decoded by ``json`` (a conservative test: the digits may sit in a string or be the float
  itself, which only costs that request the speed). The walk that measures the depth notes the floats, so the
  text is searched for such a run only when a float came out (the search costs twice orjson's decoding).

A value decoded here within the depth limit, by orjson, from a text holding no ``\\u0000``, has nothing PostgreSQL
cannot store (orjson refuses unpaired surrogates) and no deeper nesting: ``remember_checked`` notes it (the last
one only), and the variables check of the GraphQL layer (``limits.characters.unstorable_variable``) does not walk
it again.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from typing import Any

import orjson

_LONG_DIGITS = re.compile(r"[0-9]{19}")
_NUL_ESCAPE = "\\u0000"


def fast_json_loads(text: str) -> Any:
    """``json.loads(text)``, through orjson where both give the same value (see the module's docstring)."""
    return decode(text)[0]


def decode(text: str) -> tuple[Any, int, bool]:
    """``(json.loads(text), its json_depth, plain)`` from one walk: ``plain`` when orjson's value was kept and the
    text holds no NUL escape (then no string in the value holds NUL or an unpaired surrogate)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = json.loads(text)  # json answers: the same value, or the error the caller reports
        return value, json_depth(value), False
    depth, floats = _shape(value)
    if floats and _LONG_DIGITS.search(text) is not None:
        value = json.loads(text)
        return value, json_depth(value), False
    return value, depth, _NUL_ESCAPE not in text


def json_depth(value: object) -> int:
    """How deeply a decoded JSON value nests (a scalar is 0, ``[1]`` is 1, ``[[]]`` is 1), without recursion.
    Only containers are walked: a scalar inside a container adds the container's level, nothing more."""
    return _shape(value)[0]


def _shape(value: object) -> tuple[int, bool]:
    """``(json_depth(value), whether value holds a float)`` in one walk."""
    if type(value) is not dict and type(value) is not list:
        return 0, type(value) is float
    deepest = 0
    floats = False
    stack: list[tuple[Any, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    for_float = float
    while stack:
        current, depth = pop()
        children = current.values() if type(current) is dict else current
        if children:
            depth += 1
            if depth > deepest:
                deepest = depth
            for child in children:
                kind = type(child)
                if kind is dict or kind is list:
                    push((child, depth))
                elif kind is for_float:
                    floats = True
    return deepest, floats


_CHECKED: ContextVar[object] = ContextVar("vigil_checked_json", default=None)


def remember_checked(value: object) -> None:
    """Note ``value`` (decoded by ``decode``, plain and within the depth limit) as checked: the last value decoded
    in this context, and only that one (a context may serve many requests one after another, as a test client's
    does: nothing accumulates)."""
    _CHECKED.set(value)


def was_checked(variables: object) -> bool:
    """Whether ``variables`` is the value this context decoded and checked last, or that value's ``variables``
    member (a request body). Identity, not equality: the checked value is held here, so no other object can pass.
    A GET request decodes its variables, then its extensions: its variables are then checked again, as ever."""
    value = _CHECKED.get()
    return value is variables or (type(value) is dict and value.get("variables") is variables)
