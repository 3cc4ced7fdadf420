"""Test database: a throwaway embedded PostgreSQL (or VIGIL_TEST_DATABASE_URL's server), one fresh database per
test cloned from a template migrated to head once per session."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from persistence import migrate as migrations

# Per test session: several sessions (other checkouts, CI) may share one server through VIGIL_TEST_DATABASE_URL.
TEMPLATE = f"vigil_template_{os.getpid()}"
_counter = itertools.count()


def _asyncpg_dsn(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def _sqlalchemy_url(url: str, database: str) -> str:
    return make_url(url).set(drivername="postgresql+asyncpg", database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A URL of the server the tests may create databases on."""
    external = os.environ.get("VIGIL_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from persistence.embedded import start_embedded

    root = Path(tempfile.mkdtemp(prefix="vigil-test-"))
    server = start_embedded(root / "pg", throwaway=True)
    try:
        _unsynced(server.url("postgres"))
        yield server.url("postgres")
    finally:
        server.stop()


def _unsynced(url: str) -> None:
    """The throwaway cluster is deleted after the run: it never needs to survive a crash, so it skips fsync."""

    async def configure() -> None:
        conn = await _admin(url)
        try:
            await conn.execute("ALTER SYSTEM SET fsync = off")
            await conn.execute("ALTER SYSTEM SET full_page_writes = off")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()

    asyncio.run(configure())


async def _admin(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(_asyncpg_dsn(url, "postgres"))


@pytest.fixture(scope="session")
async def template_url(pg_server_url: str) -> AsyncIterator[str]:
    conn = await _admin(pg_server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
        await conn.execute(f'ALTER DATABASE "{TEMPLATE}" SET synchronous_commit = off')
    finally:
        await conn.close()
    url = _sqlalchemy_url(pg_server_url, TEMPLATE)
    await migrations.upgrade_async(url)
    yield url
    conn = await _admin(pg_server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def _fresh_database(server_url: str, prefix: str, template: str | None) -> AsyncIterator[str]:
    """Create a database (a copy of `template`, or empty), yield its URL, drop it afterwards."""
    name = f"{prefix}{os.getpid()}_{next(_counter)}"
    # WAL_LOG (PostgreSQL 15's default) copies the template through the WAL: no checkpoint, unlike FILE_COPY, which
    # forces two on a server busy with other tests' writes (measured on PostgreSQL 15, idle: 0.05-0.13 s a clone
    # against 0.19 s).
    clone = f' TEMPLATE "{template}" STRATEGY WAL_LOG' if template else ""
    conn = await _admin(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"{clone}')
        # A test database is thrown away: its commits need not wait for the disk (a crash loses it anyway). Commits
        # are still visible to every other session at once; only their durability across a server crash is given up.
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await conn.close()
    try:
        yield _sqlalchemy_url(server_url, name)
    finally:
        conn = await _admin(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def db_url(pg_server_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh database at migration head, private to one test."""
    async with _fresh_database(pg_server_url, "vigil_t", TEMPLATE) as url:
        yield url


@pytest.fixture
async def empty_db_url(pg_server_url: str) -> AsyncIterator[str]:
    """A fresh, empty database (no migrations applied)."""
    async with _fresh_database(pg_server_url, "vigil_e", None) as url:
        yield url


DATABASE_FIXTURES = frozenset({"pg_server_url", "template_url", "db_url", "empty_db_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration and tests/security talks to PostgreSQL, and so does any test using a
    database fixture wherever it lives: mark it ``db``, so the fast tier (``make test-unit``, ``pytest -m "not
    db"``) runs the rest in seconds and CI's PostgreSQL 15 leg (``-m db``) runs all of it."""
    for item in items:
        parts = item.path.parts
        uses_database = not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        if "integration" in parts or "security" in parts or uses_database:
            item.add_marker(pytest.mark.db)
