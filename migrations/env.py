"""Alembic environment: async engine on asyncpg, metadata from persistence.tables."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from persistence.db import create_engine
from persistence.locks import MIGRATIONS_LOCK
from persistence.tables import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    # Run by `vigil db upgrade` (which passes the URL it resolved) or by `alembic` with VIGIL_DATABASE_URL set;
    # the migrations never import the API for its settings.
    url = os.environ.get("VIGIL_DATABASE_URL")
    if not url:
        raise SystemExit("alembic: set VIGIL_DATABASE_URL, or run `vigil db upgrade` (it finds the embedded server)")
    return url


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=True,
    )


def run_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        await connection.run_sync(_run_sync)
        return
    engine = create_engine(_url(), pool_size=1)
    try:
        async with engine.connect() as conn:
            # Concurrent upgrades (two bootstraps at once) take turns: the second one finds the database at head.
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATIONS_LOCK})
            await conn.commit()
            try:
                await conn.run_sync(_run_sync)
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATIONS_LOCK})
                await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
