"""Issue 10 items 5 and 10: production suggests no schema names (types, arguments, input fields, enum values,
fields), takes no GET queries, answers 405 to a GET mutation; the depth limit counts exactly, introspection
included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from tests.integration.tokens import issue_staff_token
from tests.security.conftest import AppClient, error_code

# (document, variables): each one a mistake that development answers with a "Did you mean" suggestion
MISTAKES: dict[str, tuple[str, dict[str, Any]]] = {
    "type": ("query($f: AcountFilter) { accounts(filter: $f) { nodes { id } } }", {}),
    "argument": ("{ cases(frist: 1) { nodes { id } } }", {}),
    "input-field": ("{ accounts(filter: {regoin: US}) { nodes { id } } }", {}),
    "enum-value": ("{ accounts(filter: {region: UA}) { nodes { id } } }", {}),
    "enum-value-variable": (
        "query($f: AccountFilter) { accounts(filter: $f) { nodes { id } } }",
        {"f": {"region": "UA"}},
    ),
    "input-field-variable": (
        "query($f: AccountFilter) { accounts(filter: $f) { nodes { id } } }",
        {"f": {"regoin": "US"}},
    ),
    "field": ("{ viewr { id } }", {}),
}


@pytest.fixture
async def both(db_url: str, app_client: AppClient) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, str]]:
    admin = await issue_staff_token(db_url, "admin", "*")
    async with app_client(env="development") as dev, app_client(env="production") as prod:
        yield dev, prod, admin


@pytest.mark.parametrize("mistake", MISTAKES)
async def test_production_suggests_nothing(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient, str], mistake: str
) -> None:
    dev, prod, admin = both
    document, variables = MISTAKES[mistake]
    payload = {"query": document, "variables": variables}
    headers = {"Authorization": f"Bearer {admin}"}
    in_dev = (await dev.post("/graphql", json=payload, headers=headers)).json()
    in_prod = (await prod.post("/graphql", json=payload, headers=headers)).json()
    assert "Did you mean" in in_dev["errors"][0]["message"], in_dev  # the mistake does draw a suggestion...
    for error in in_prod["errors"]:
        assert "Did you mean" not in error["message"], error  # ...but never in production
    assert in_prod["errors"][0]["message"] != "Unexpected error."  # still a clear message


async def test_production_takes_no_get_queries(app_client: AppClient) -> None:
    async with app_client(env="production") as prod:
        response = await prod.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert error_code(response) == "METHOD_NOT_ALLOWED"


async def test_get_mutations_are_405_in_every_mode(http: httpx.AsyncClient, app_client: AppClient) -> None:
    query = {"query": "mutation { __typename }"}
    async with app_client(env="production") as prod:
        for client in (http, prod):
            response = await client.get("/graphql", params=query)
            assert response.status_code == 405
            assert error_code(response) == "METHOD_NOT_ALLOWED"


async def test_max_depth_is_exact(app_client: AppClient) -> None:
    three = "{ viewer { roles { role } } }"
    async with app_client(max_query_depth=3) as http:
        assert "errors" not in (await http.post("/graphql", json={"query": three})).json()
    async with app_client(max_query_depth=2) as http:
        body = (await http.post("/graphql", json={"query": three})).json()
    assert "exceeds maximum operation depth of 2" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_introspection_counts_towards_depth(http: httpx.AsyncClient) -> None:
    chain = "name"
    for _ in range(22):
        chain = f"ofType {{ {chain} }}"
    deep = "{ __schema { types { fields { type { " + chain + " } } } } }"  # 27 levels
    body = (await http.post("/graphql", json={"query": deep})).json()
    assert "exceeds maximum operation depth of 15" in body["errors"][0]["message"]
    # the standard introspection query (GraphiQL's schema fetch, 15 levels) still runs in development
    standard = (await http.post("/graphql", json={"query": get_introspection_query(descriptions=True)})).json()
    assert "errors" not in standard
    assert standard["data"]["__schema"]["queryType"]["name"] == "Query"
