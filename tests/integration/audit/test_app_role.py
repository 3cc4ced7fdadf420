"""The API's own database role (issue 14, point 11): migrations run as the owner; the app connects as a role that
inserts into the audit tables but cannot change, drop or un-trigger them. Tested on real PostgreSQL: the app role
works the API end to end, and every way around the append-only triggers is refused to it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from api.app import create_app
from api.settings import Settings
from persistence.app_role import grant_app_role
from tests.conftest import _asyncpg_dsn
from tests.integration.audit.conftest import event, write
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_staff_token

REFUSED = [
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
    "ALTER TABLE audit_events DISABLE TRIGGER ALL",
    "ALTER TABLE audit_seals DISABLE TRIGGER audit_seals_append_only",
    "DROP TRIGGER audit_events_append_only ON audit_events",
    "DROP TABLE audit_events CASCADE",
    "DROP FUNCTION vigil_refuse_change() CASCADE",
    "TRUNCATE audit_events CASCADE",
    "UPDATE audit_events SET reason = 'rewritten'",
    "DELETE FROM audit_seals",
    "ALTER TABLE audit_events ADD COLUMN forged text",
    "CREATE TABLE sneaky (id int)",
    "UPDATE alembic_version SET version_num = 'x'",
    "SET session_replication_role = replica",
]


def _as(url: str, role: str) -> str:
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


@pytest.fixture
async def app_role(db_url: str) -> AsyncIterator[str]:
    role = f"vigil_app_{uuid.uuid4().hex[:8]}"
    await grant_app_role(db_url, role)
    try:
        yield role
    finally:
        database = str(make_url(db_url).database)
        conn = await asyncpg.connect(_asyncpg_dsn(db_url, database))
        try:
            await conn.execute(f'DROP OWNED BY "{role}"')
        finally:
            await conn.close()
        admin = await asyncpg.connect(_asyncpg_dsn(db_url, "postgres"))
        try:
            await admin.execute(f'REVOKE ALL ON DATABASE "{database}" FROM "{role}"')
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await admin.close()


@pytest.mark.parametrize("statement", REFUSED)
async def test_the_app_role_cannot_get_around_the_audit_trail(db_url: str, app_role: str, statement: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(_as(db_url, app_role), str(make_url(db_url).database)))
    try:
        assert await conn.fetchval("SELECT current_user") == app_role
        with pytest.raises(asyncpg.PostgresError) as refused:
            await conn.execute(statement)
        assert refused.value.sqlstate in ("42501", "42P01"), refused.value  # insufficient privilege / not owner
        assert "append-only" not in str(refused.value)  # refused by privileges, before any trigger ran
    finally:
        await conn.close()


async def test_the_app_role_may_insert_audit_events_and_seal_them(db_url: str, app_role: str) -> None:
    from persistence.audit import seal_all, verify
    from persistence.db import create_engine, create_session_factory

    engine = create_engine(_as(db_url, app_role), pool_size=1)
    try:
        sessions = create_session_factory(engine)
        await write(sessions, [event(1), event(2)])
        assert await seal_all(sessions) == 2
        async with sessions() as session:
            assert (await verify(session)).ok
    finally:
        await engine.dispose()


async def test_the_api_runs_as_the_app_role(db_url: str, app_role: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    app = create_app(Settings(env="test"), database_url=_as(db_url, app_role))  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            gql = GraphQLClient(client)
            owner = await flows.account(gql, admin, "app-role-owner")
            ready = await client.get("/readyz")
            history = await gql(
                "query($id: ID!) { node(id: $id) { ... on Account { history { nodes { action } } } } }",
                {"id": owner},
                token=admin,
            )
    assert ready.status_code == 200, ready.text
    assert [e["action"] for e in history["data"]["node"]["history"]["nodes"]] == ["upsertAccount"]
