"""JSON as clients send it: decoded fast, measured for depth, checked for what PostgreSQL cannot store.

orjson decodes a body several times faster than the standard library; where the two could disagree, the standard
library decides, so what a request means never depends on which one ran:

- orjson refuses what ``json`` accepts (``NaN``, ``Infinity``, ``1e400``, an unpaired surrogate escape): ``json``
  decodes it again, and the checks after decoding answer as they always did;
- orjson turns an integer past 64 bits into a float: a body holding a run of 19 digits or more is decoded by
  ``json`` alone (a conservative test: the digits may sit in a string, which only costs that request the speed).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_LONG_DIGITS = re.compile(r"[0-9]{19}")


def fast_json_loads(text: str) -> Any:
    """``json.loads(text)``, through orjson where both give the same value (see the module's docstring)."""
    if _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # json.loads answers: the same value, or the error the caller reports
    return json.loads(text)


def json_depth(value: object) -> int:
    """How deeply a decoded JSON value nests (a scalar is 0, ``[1]`` is 1, ``[[]]`` is 1), without recursion.
    Only containers are walked: a scalar inside a container adds the container's level, nothing more."""
    if type(value) is not dict and type(value) is not list:
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        current, depth = pop()
        children = current.values() if type(current) is dict else current
        if children:
            depth += 1
            if depth > deepest:
                deepest = depth
            for child in children:
                if type(child) is dict or type(child) is list:
                    push((child, depth))
    return deepest
