"""The principal cache: a busy token is looked up once per TTL per process, and revocation still takes effect:
at once in the process that revoked it, within the TTL (``VIGIL_PRINCIPAL_CACHE_SECONDS``) everywhere else."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from api.app import create_app
from api.graphql.context import PrincipalCache
from api.graphql.ids import to_global_id
from api.settings import Settings
from authz.principal import Principal
from persistence.db import create_engine, create_session_factory
from persistence.principals import SYSTEM_AUDIT, revoke_token
from persistence.uow import SqlUnitOfWork
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_staff_token

VIEWER = "{ viewer { id authenticated } }"
REVOKE = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { __typename } }"


@asynccontextmanager
async def cached_client(db_url: str, ttl: float) -> AsyncIterator[GraphQLClient]:
    app = create_app(Settings(env="test", principal_cache_seconds=ttl), database_url=db_url)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
            yield GraphQLClient(http)


async def _token_id(db_url: str, name: str) -> object:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return (
                await conn.execute(
                    sa.text(
                        "SELECT t.id FROM api_tokens t JOIN principals p ON p.id = t.principal_id WHERE p.name = :n"
                    ),
                    {"n": name},
                )
            ).scalar_one()
    finally:
        await engine.dispose()


async def test_a_token_revoked_elsewhere_is_refused_after_the_ttl_and_not_before(db_url: str) -> None:
    token = await issue_staff_token(db_url, "moderator", "US", name="cached-mod")
    token_id = await _token_id(db_url, "cached-mod")
    async with cached_client(db_url, ttl=60) as gql:
        assert (await gql(VIEWER, token=token))["data"]["viewer"]["authenticated"] is True
        engine = create_engine(db_url, pool_size=1)
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            await revoke_token(uow, token_id, datetime.now(UTC))  # type: ignore[arg-type]
        await engine.dispose()
        # Another process revoked it: this one still trusts its cached answer (the documented bound) ...
        assert (await gql(VIEWER, token=token))["data"]["viewer"]["authenticated"] is True
    async with cached_client(db_url, ttl=60) as gql:
        # ... and a process that has not cached it refuses it at once.
        assert (await gql(VIEWER, token=token))["data"]["viewer"]["authenticated"] is False


async def test_a_revocation_through_the_api_takes_effect_at_once_in_that_process(db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    victim = await issue_staff_token(db_url, "moderator", "US", name="victim-mod")
    async with cached_client(db_url, ttl=60) as gql:
        assert (await gql(VIEWER, token=victim))["data"]["viewer"]["authenticated"] is True
        global_id = to_global_id("ApiToken", await _token_id(db_url, "victim-mod"))
        result = await gql(REVOKE, {"id": global_id}, token=admin)
        assert result["data"]["revokeApiToken"]["__typename"] == "RevokeApiTokenSuccess", result
        assert (await gql(VIEWER, token=victim))["data"]["viewer"]["authenticated"] is False


def test_entries_expire_after_the_ttl() -> None:
    cache = PrincipalCache(ttl=0.05)
    principal = Principal.anonymous()
    cache.put("h", principal)
    assert cache.get("h") is principal
    time.sleep(0.06)
    assert cache.get("h") is None


def test_a_zero_ttl_caches_nothing_and_the_cache_is_bounded() -> None:
    assert PrincipalCache(ttl=0).get("h") is None
    cache = PrincipalCache(ttl=60, max_entries=10)
    for i in range(25):
        cache.put(str(i), Principal.anonymous())
    assert len(cache._entries) <= 10
    assert cache.get("24") is not None
