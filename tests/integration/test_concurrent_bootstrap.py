"""Concurrent bootstraps are safe (issue 14, point 6): database creation and migrations take a PostgreSQL
advisory lock, so two `make run` (or `make run` and `make test`) at once neither race nor fail."""

from __future__ import annotations

import asyncio
import sys
import uuid

import asyncpg
from sqlalchemy.engine import make_url

from persistence import migrate as migrations
from persistence.embedded import create_database_if_missing
from persistence.locks import MIGRATIONS_LOCK
from tests.conftest import _asyncpg_dsn


def _dsn(url: str) -> str:
    return _asyncpg_dsn(url, str(make_url(url).database))


async def _upgrade_in_a_process(url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from persistence.migrate import upgrade; upgrade(sys.argv[1])",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_concurrent_upgrades_of_an_empty_database_all_succeed(empty_db_url: str) -> None:
    outcomes = await asyncio.gather(*(_upgrade_in_a_process(empty_db_url) for _ in range(3)))

    assert [code for code, _ in outcomes] == [0, 0, 0], [output[-2000:] for _, output in outcomes]
    conn = await asyncpg.connect(_dsn(empty_db_url))
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == migrations.head_revision()
        assert await conn.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await conn.close()


async def test_an_upgrade_waits_for_the_migration_lock(empty_db_url: str) -> None:
    conn = await asyncpg.connect(_dsn(empty_db_url))
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATIONS_LOCK)
        upgrade = asyncio.ensure_future(asyncio.to_thread(migrations.upgrade, empty_db_url))
        await asyncio.sleep(1.5)
        assert not upgrade.done()  # held back by the lock
        assert await conn.fetchval("SELECT to_regclass('alembic_version')") is None
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATIONS_LOCK)
        await asyncio.wait_for(upgrade, 60)
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == migrations.head_revision()
    finally:
        await conn.close()


async def test_concurrent_database_creation_all_succeed(pg_server_url: str) -> None:
    name = f"vigil_race_{uuid.uuid4().hex[:8]}"
    try:
        outcomes = await asyncio.gather(
            *(create_database_if_missing(pg_server_url, name) for _ in range(4)), return_exceptions=True
        )
        assert [o for o in outcomes if isinstance(o, BaseException)] == []
    finally:
        conn = await asyncpg.connect(_asyncpg_dsn(pg_server_url, "postgres"))
        try:
            assert await conn.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name) == 1
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
