"""Strings PostgreSQL cannot store (NUL, unpaired surrogates), in the document's literals and in the variables;
and how much of the client's input an error message quotes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from graphql import ASTValidationRule, GraphQLError, StringValueNode

from api.graphql.limits.json_values import json_depth, was_checked

SHOWN_PREFIX = 40
"""Error messages quote at most this many characters of anything the client sent."""

_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_UNSTORABLE = "`{}` contains a NUL character or an unpaired surrogate, which cannot be stored"


def unstorable(text: str) -> bool:
    """NUL (PostgreSQL text cannot hold it) or a lone surrogate (not encodable as UTF-8)."""
    return _UNSTORABLE_CHARACTER.search(text) is not None


def clip(text: str, limit: int = SHOWN_PREFIX) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class InvalidInput(GraphQLError):
    """A request-level refusal naming the input at fault; nothing ran."""

    def __init__(self, message: str, field: str, node: Any = None) -> None:
        super().__init__(message, node, extensions={"code": "INVALID_INPUT", "field": field})


def unstorable_variable(variables: Mapping[str, Any] | None, max_depth: int) -> InvalidInput | None:
    """The first string in ``variables`` (keys included) that PostgreSQL could not store, or the first value nested
    deeper than ``max_depth``, as an error naming it.

    Most requests hold neither. Variables decoded from this request's body or parameters and found plain there
    (``json_values.decode``: the body's depth within the limit, decoded by orjson, no NUL escape) are not looked at
    again; for others, one orjson encoding (which refuses an unpaired surrogate and spells NUL ``\\u0000``) and a
    depth walk over the containers tell so without building a path per value. Only variables that fail them are
    walked value by value for the path the error names."""
    if not variables or was_checked(variables):
        return None
    try:
        encoded = orjson.dumps(variables)
    except (TypeError, orjson.JSONEncodeError):
        encoded = None  # an unpaired surrogate, or a value JSON does not have: the walk below says which
    if encoded is not None and b"\\u0000" not in encoded and json_depth(dict(variables)) <= max_depth:
        return None
    return first_unstorable(variables, max_depth)


def first_unstorable(variables: Mapping[str, Any], max_depth: int) -> InvalidInput | None:
    """``unstorable_variable``'s answer found value by value, building each value's path (the reference walk)."""
    stack: list[tuple[str, Any, int]] = [(f"${name}", value, 1) for name, value in (variables or {}).items()]
    while stack:
        path, value, depth = stack.pop()
        if depth > max_depth:
            return InvalidInput(f"`{clip(path)}` is nested deeper than {max_depth} levels", path)
        if isinstance(value, str):
            if unstorable(value):
                return InvalidInput(_UNSTORABLE.format(clip(path, 80)), path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and unstorable(key):
                    return InvalidInput(_UNSTORABLE.format(clip(path, 80)), path)
                stack.append((f"{path}.{key}", item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return None


def literal_characters_rule() -> type[ASTValidationRule]:
    class UnstorableLiterals(ASTValidationRule):
        """String literals in the document must be storable (refused before any SQL, as for variables)."""

        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            if unstorable(node.value):
                self.report_error(InvalidInput(_UNSTORABLE.format("a string literal"), "literal", node))

    return UnstorableLiterals
