"""Shared by the rules tests: a plain asyncpg pool on the test's database (a module may define its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from persistence.fast.sql import create_pool


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(db_url, size=2)
    try:
        yield created
    finally:
        await created.close()
