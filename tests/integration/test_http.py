"""The ASGI app over HTTP: GraphQL answers, health and readiness, limits, masking."""

from __future__ import annotations

import httpx

from tests.integration.conftest import GraphQLClient


async def test_typename_answers_over_http(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["x-request-id"]


async def test_get_query_is_allowed(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_healthz_and_readyz(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_readyz_is_503_when_not_at_head(empty_db_url: str) -> None:
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(env="test"), database_url=empty_db_url)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "vigil db upgrade" in body["reason"]


async def test_request_id_is_honoured(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_oversized_body_is_413(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", content=b'{"query":"' + b" " * 2_000_000 + b'{__typename}"}')
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_depth_limit(db_url: str) -> None:
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(env="test", max_query_depth=1), database_url=db_url)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/graphql", json={"query": "query Deep { viewer { roles { role } } }"})
    assert "exceeds maximum operation depth of 1" in response.json()["errors"][0]["message"]


async def test_alias_limit(gql: GraphQLClient) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(50)) + " }"
    body = await gql(query)
    assert "aliases" in body["errors"][0]["message"]


async def test_validation_errors_stay_readable(gql: GraphQLClient) -> None:
    body = await gql("{ noSuchField }")
    assert "Cannot query field 'noSuchField'" in body["errors"][0]["message"]


async def test_viewer_is_anonymous_without_token(gql: GraphQLClient) -> None:
    body = await gql("{ viewer { id kind authenticated permissions { permission } } }")
    assert body["data"]["viewer"] == {
        "id": "anonymous",
        "kind": "ANONYMOUS",
        "authenticated": False,
        "permissions": [],
    }


GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_graphql_response_media_type_is_negotiated(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_request_errors_are_400_without_data_for_graphql_response(http: httpx.AsyncClient) -> None:
    for query in ("{", "{ noSuchField }"):
        response = await http.post("/graphql", json={"query": query}, headers={"Accept": GRAPHQL_RESPONSE})
        assert response.status_code == 400, query
        assert "data" not in response.json()
        assert response.json()["errors"]


async def test_request_errors_stay_200_for_plain_json(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ noSuchField }"}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


async def test_security_headers(http: httpx.AsyncClient) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE):
        response = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"Accept": accept})
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


async def test_mutations_are_refused_over_get(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code == 405  # GraphQL-over-HTTP: a mutation over GET is a method not allowed
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_database_outage_is_a_clean_503(pg_server_url: str) -> None:
    from sqlalchemy.engine import make_url

    from api.app import create_app
    from api.settings import Settings

    missing = make_url(pg_server_url).set(drivername="postgresql+asyncpg", database="no_such_database")
    app = create_app(Settings(env="test"), database_url=missing.render_as_string(hide_password=False))  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/graphql", json={"query": "{ viewer { id } }"}, headers={"Authorization": "Bearer vgl_" + "a" * 43}
        )
        ready = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "Traceback" not in response.text
    assert ready.status_code == 503
    assert ready.json()["reason"].startswith("database unreachable")


def test_unexpected_errors_are_masked_and_ours_are_not() -> None:
    from graphql import GraphQLError

    from api.graphql.errors import Forbidden, should_mask_error

    internal = GraphQLError("boom", original_error=KeyError("secret_column"))
    ours = GraphQLError("no", original_error=Forbidden("permission cases:read is required"))
    validation = GraphQLError("Cannot query field 'x' on type 'Query'.")
    assert should_mask_error(internal)
    assert not should_mask_error(ours)
    assert not should_mask_error(validation)
