"""Permissions are computed once per request: Casbin's `enforce()` is never called per item returned."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from starlette.routing import Route

from api.app import VigilGraphQL, create_app
from api.settings import Settings
from authz.enforcer import Authorizer
from persistence.db import create_engine, create_session_factory
from persistence.principals import SYSTEM_AUDIT, create_token, ensure_partner
from persistence.uow import SqlUnitOfWork
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_staff_token

LIST = "query L($first: Int!) { apiTokens(first: $first) { nodes { id prefix status principal { name } } } }"


@asynccontextmanager
async def client(db_url: str) -> AsyncIterator[tuple[GraphQLClient, Authorizer]]:
    """A fresh app (so a cold Authorizer) and the Authorizer its requests use."""
    app = create_app(Settings(env="test"), database_url=db_url)  # type: ignore[arg-type]
    endpoint = next(r.endpoint for r in app.routes if isinstance(r, Route) and r.path == "/graphql")
    assert isinstance(endpoint, VigilGraphQL)
    async with app.router.lifespan_context(app):
        await app.state.runtime.jobs.authorizer_warm_up  # warming runs beside serving: wait for it here
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
            yield GraphQLClient(http), endpoint.contexts.authorizer


async def _issue_many(db_url: str, count: int) -> None:
    now = datetime.now(UTC)
    engine = create_engine(db_url, pool_size=1)
    async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
        partner = await ensure_partner(uow, "bulk")
        for i in range(count):
            await create_token(
                uow,
                principal_id=partner,
                name=f"bulk {i}",
                scopes=["reports:create"],
                region="EU",
                issued_by=None,
                expires_at=now + timedelta(days=1),
                now=now,
            )
    await engine.dispose()


async def _cost(gql: GraphQLClient, authorizer: Authorizer, token: str, first: int) -> int:
    before = authorizer.enforce_calls
    body = await gql(LIST, {"first": first}, token=token)
    assert "errors" not in body, body
    assert len(body["data"]["apiTokens"]["nodes"]) == first
    return authorizer.enforce_calls - before


async def test_enforce_calls_do_not_grow_with_the_page(db_url: str) -> None:
    await _issue_many(db_url, 60)
    admin = await issue_staff_token(db_url, "admin", "*")

    async with client(db_url) as (gql, authorizer):
        cold_small = await _cost(gql, authorizer, admin, 5)
        warm_small = await _cost(gql, authorizer, admin, 5)
        warm_large = await _cost(gql, authorizer, admin, 50)
    async with client(db_url) as (gql, authorizer):
        cold_large = await _cost(gql, authorizer, admin, 50)

    # The app warms every (role, region) table at start-up: not even the first request of a process pays.
    assert cold_small == cold_large == warm_small == warm_large == 0


async def test_the_authorizer_is_warmed_at_start_up(db_url: str) -> None:
    async with client(db_url) as (_, authorizer):
        warmed = authorizer.enforce_calls
    # At most one enforce() per permission in the catalogue for each role and assignable region.
    assert warmed > 0


async def test_several_root_fields_share_one_permission_map(db_url: str) -> None:
    await _issue_many(db_url, 3)
    auditor = await issue_staff_token(db_url, "auditor", "EU")
    query = "{ a: apiTokens(first: 3) { nodes { id } } b: apiTokens(first: 3) { nodes { id } } viewer { id } }"
    async with client(db_url) as (gql, authorizer):
        body = await gql(query, token=auditor)
        cold = authorizer.enforce_calls
        body = await gql(query, token=auditor)
        warm = authorizer.enforce_calls - cold
    assert len(body["data"]["a"]["nodes"]) == len(body["data"]["b"]["nodes"]) == 3
    assert warm == 0
