"""Alembic owns the schema: head matches the tables, and the whole history goes down and up again."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from persistence import migrate as migrations
from persistence.db import create_engine


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            return {r[0] for r in rows}
    finally:
        await engine.dispose()


async def test_upgrade_head_then_check_is_clean(empty_db_url: str) -> None:
    await migrations.upgrade_async(empty_db_url)
    await asyncio.to_thread(migrations.check, empty_db_url)  # raises if autogenerate would write anything


async def test_downgrade_to_base_and_upgrade_again(empty_db_url: str) -> None:
    await migrations.upgrade_async(empty_db_url)
    at_head = await _tables(empty_db_url)
    assert "audit_events" in at_head
    await asyncio.to_thread(migrations.downgrade, empty_db_url, "base")
    assert await _tables(empty_db_url) == {"alembic_version"}
    await migrations.upgrade_async(empty_db_url)
    assert await _tables(empty_db_url) == at_head
    await asyncio.to_thread(migrations.check, empty_db_url)
