"""`VIGIL_ENV=production`: no GraphiQL, no introspection, no field suggestions; errors stay masked in every mode."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.settings import Settings


@pytest.fixture
async def prod(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(env="production"), database_url=db_url)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_no_graphiql_in_production(prod: httpx.AsyncClient, http: httpx.AsyncClient) -> None:
    page = {"Accept": "text/html"}
    assert "graphiql" in (await http.get("/graphql", headers=page)).text.lower()
    response = await prod.get("/graphql", headers=page)
    assert "graphiql" not in response.text.lower()


async def test_no_introspection_in_production(prod: httpx.AsyncClient) -> None:
    body = (await prod.post("/graphql", json={"query": "{ __schema { types { name } } }"})).json()
    assert "introspection" in body["errors"][0]["message"].lower()
    assert (await prod.post("/graphql", json={"query": "{ __typename }"})).json() == {"data": {"__typename": "Query"}}


async def test_no_field_suggestions_in_production(prod: httpx.AsyncClient, http: httpx.AsyncClient) -> None:
    dev = (await http.post("/graphql", json={"query": "{ viewr { id } }"})).json()
    assert "Did you mean" in dev["errors"][0]["message"]
    body = (await prod.post("/graphql", json={"query": "{ viewr { id } }"})).json()
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_operations_are_logged_as_json_without_tokens(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    from api.logs import JsonFormatter

    secret = "vgl_" + "x" * 43
    with caplog.at_level(logging.INFO):
        await http.post(
            "/graphql",
            json={"query": "query Who { viewer { id } }", "operationName": "Who"},
            headers={"Authorization": f"Bearer {secret}", "X-Request-Id": "req-42"},
        )
    records = [r for r in caplog.records if r.name == "vigil.graphql"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["operation_name"] == "Who"
    assert line["principal_id"] == "anonymous"
    assert line["request_id"] == "req-42"
    assert isinstance(line["duration_ms"], float)
    assert all(secret not in r.getMessage() and secret not in str(vars(r)) for r in caplog.records)
