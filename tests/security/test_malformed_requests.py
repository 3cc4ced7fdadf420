"""Issue 10 items 1, 4 and 10: malformed bodies and URLs are a 400 with a JSON GraphQL error, never a 5xx, and
nothing the client sent is echoed back beyond a short prefix."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.security.conftest import LogLines, error_code

DEEP = 2_000  # far beyond Python's recursion limit for json


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _assert_clean_400(response: httpx.Response, logs: LogLines) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert error_code(response) == "BAD_REQUEST"
    assert not logs.tracebacks()
    assert not logs.at_least(logging.ERROR)


@pytest.mark.parametrize(
    "body",
    [
        '{"query": "{ __typename }", "variables": {"v": ' + _nested(DEEP) + "}}",
        '{"query": "{ __typename }", "extensions": {"e": ' + _nested(DEEP) + "}}",
        _nested(DEEP),
        '{"query": "{ __typename }", "variables": {"v": ' + _nested(40) + "}}",  # parses, but deeper than allowed
    ],
    ids=["variables", "extensions", "whole-body", "moderately-deep"],
)
async def test_deeply_nested_json_is_a_400(http: httpx.AsyncClient, logs: LogLines, body: str) -> None:
    response = await http.post("/graphql", content=body.encode(), headers={"Content-Type": "application/json"})
    _assert_clean_400(response, logs)
    assert "nested deeper" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("param", ["variables", "extensions"])
async def test_deeply_nested_json_in_the_url_is_a_400(http: httpx.AsyncClient, logs: LogLines, param: str) -> None:
    response = await http.get("/graphql", params={"query": "{ __typename }", param: '{"v": ' + _nested(DEEP) + "}"})
    _assert_clean_400(response, logs)


@pytest.mark.parametrize("body", ['"{ __typename }"', "42", "null", "true", "[]"])
async def test_a_body_that_is_not_an_object_is_a_400(http: httpx.AsyncClient, logs: LogLines, body: str) -> None:
    response = await http.post("/graphql", content=body.encode(), headers={"Content-Type": "application/json"})
    _assert_clean_400(response, logs)


async def test_invalid_utf8_is_a_400(http: httpx.AsyncClient, logs: LogLines) -> None:
    body = b'{"query": "{ __typename }", "variables": {"x": "\xff\xfe"}}'
    response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    _assert_clean_400(response, logs)
    assert "UTF-8" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"query": 42}', b'{"query": "{ __typename }", "variables": [1]}', b'{"operationName": {}}'],
    ids=["syntax", "query-not-string", "variables-not-object", "operation-name-not-string"],
)
async def test_wrongly_shaped_bodies_are_a_400(http: httpx.AsyncClient, logs: LogLines, content: bytes) -> None:
    response = await http.post("/graphql", content=content, headers={"Content-Type": "application/json"})
    _assert_clean_400(response, logs)


async def test_an_unsupported_content_type_is_a_json_400(http: httpx.AsyncClient, logs: LogLines) -> None:
    response = await http.post("/graphql", content=b"{ __typename }", headers={"Content-Type": "text/plain"})
    _assert_clean_400(response, logs)


async def test_a_huge_field_name_is_not_echoed(http: httpx.AsyncClient) -> None:
    name = "x" * 200_000
    response = await http.post("/graphql", json={"query": "{ " + name + " }"})
    assert response.status_code == 200
    assert len(response.text) < 1_000
    message = response.json()["errors"][0]["message"]
    assert "x" * 40 in message
    assert "x" * 41 not in message


async def test_a_huge_operation_name_is_not_echoed(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ __typename }", "operationName": "o" * 100_000})
    assert response.status_code == 400
    assert len(response.text) < 1_000
    assert error_code(response) == "BAD_REQUEST"


async def test_an_unknown_operation_name_is_a_short_400(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "query A { __typename }", "operationName": "B" * 100})
    assert response.status_code == 400
    assert len(response.text) < 1_000


async def test_huge_variable_values_are_not_echoed(http: httpx.AsyncClient) -> None:
    query = "query($first: Int) { cases(first: $first) { nodes { id } } }"
    response = await http.post("/graphql", json={"query": query, "variables": {"first": "9" * 100_000}})
    assert response.status_code == 200
    assert len(response.text) < 1_000
    assert "Variable '$first'" in response.json()["errors"][0]["message"]
