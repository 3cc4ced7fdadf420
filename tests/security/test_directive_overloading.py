"""Issue 20 point 6: directive overloading. graphql-core's rules answer one error per unknown (or repeated)
directive, graphql-cop's criterion for a server open to it; Vigil answers one error however many there are."""

from __future__ import annotations

import httpx
import pytest

OVERLOADED = {
    "one-unknown-ten-times": ("{ __typename" + " @aa" * 10 + " }", "UNKNOWN_DIRECTIVE"),
    "ten-unknown": ("{ __typename " + " ".join(f"@a{i}" for i in range(10)) + " }", "UNKNOWN_DIRECTIVE"),
    "unknown-everywhere": (
        "query Q @q1 @q2 { viewer @v1 @v2 { id @i1 @i2 ... on Viewer @f1 @f2 { kind @k1 @k2 } } }",
        "UNKNOWN_DIRECTIVE",
    ),
    "a-known-one-repeated": ("{ __typename" + " @skip(if: false)" * 10 + " }", "REPEATED_DIRECTIVE"),
    "past-the-limit": ("{ __typename" + " @include(if: true)" * 50 + " }", "QUERY_TOO_COMPLEX"),
}


@pytest.mark.parametrize(("query", "code"), OVERLOADED.values(), ids=OVERLOADED.keys())
async def test_many_directive_problems_get_one_error(http: httpx.AsyncClient, query: str, code: str) -> None:
    response = await http.post("/graphql", json={"query": query})
    assert response.status_code < 500
    body = response.json()
    assert "data" not in body or body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == code


async def test_the_error_names_a_few_of_them(http: httpx.AsyncClient) -> None:
    body = (await http.post("/graphql", json={"query": OVERLOADED["ten-unknown"][0]})).json()
    assert body["errors"][0]["message"] == "Unknown directives '@a0', '@a1', '@a2' (10 in all)."
    one = (await http.post("/graphql", json={"query": "{ __typename @nope }"})).json()
    assert one["errors"][0]["message"] == "Unknown directive '@nope'."


async def test_known_directives_still_work(http: httpx.AsyncClient) -> None:
    query = "{ a: __typename @skip(if: true) b: __typename @include(if: true) }"
    body = (await http.post("/graphql", json={"query": query})).json()
    assert body == {"data": {"b": "Query"}}
