"""Hostile documents inside the token limit: nesting that would exhaust Python's recursion in the parser or in a
validation rule is a clean error, never a traceback."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.security.conftest import LogLines

DOCUMENTS = {
    "nested-list-literal": "{ __typename(x: " + "[" * 990 + "]" * 990 + ") }",
    "nested-object-literal": "{ __typename(x: " + "{a: " * 600 + "1" + "}" * 600 + ") }",
    "nested-selections": "{ " + "a { " * 650 + "b" + " }" * 650 + " }",
    "nested-default-value": "query($v: Int = " + "[" * 990 + "]" * 990 + ") { __typename }",
    "nested-fragments": " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(300))
    + " fragment F300 on Query { __typename } { ...F0 }",
}


@pytest.mark.parametrize("document", DOCUMENTS.values(), ids=DOCUMENTS.keys())
async def test_deep_documents_are_refused_cleanly(http: httpx.AsyncClient, logs: LogLines, document: str) -> None:
    response = await http.post("/graphql", json={"query": document})
    assert response.status_code < 500
    body = response.json()
    assert body["errors"], body
    assert body["errors"][0]["message"] != "Unexpected error.", body
    assert not logs.tracebacks()
    assert not logs.at_least(logging.ERROR)
