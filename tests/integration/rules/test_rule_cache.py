"""The process's rule-set cache: requests that arrive while it makes its first load wait for that load (one
build of the rule sets and their list index, not one per request)."""

from __future__ import annotations

import asyncio

from persistence import rule_runtime
from persistence.fast.sql import create_pool


async def test_requests_during_the_first_load_wait_for_it(db_url: str) -> None:
    pool = await create_pool(db_url, size=4)
    cache = rule_runtime.RuleSetCache(pool, poll=60)
    try:
        loaded = await asyncio.gather(*(cache.get() for _ in range(8)))
        assert cache.rebuilds == 1
        assert all(each is loaded[0] for each in loaded)
    finally:
        cache.close()
        await pool.close()
