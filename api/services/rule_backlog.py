"""The rules' evaluation made at least once in the server process.

In a request, the rules run on what it accepted after its commit, in a task of their own that the request awaits
through ``asyncio.shield`` (``run_shielded``): a request stopped by its timeout returns, the evaluation goes on to
its end, and the backlog row is deleted then. The tasks in flight are kept here, so the process's stop awaits them
(``drain``, bounded) before its pools close.

What no evaluation finished (the process stopped, the evaluation failed) stays in ``rule_backlog``;
``BacklogRunner.run_due`` evaluates each row older than the grace period again (``VIGIL_RULES_BACKLOG_GRACE``, 30 s)
and deletes it, each row claimed ``FOR UPDATE SKIP LOCKED`` in a transaction of its own: any number of processes
may sweep side by side. Evaluating again is harmless (``persistence.rule_ports``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

import asyncpg

from persistence import rule_backlog
from persistence.db import SessionFactory
from persistence.errors import DATABASE_ERRORS

log = logging.getLogger("vigil.rules")
WATCH_INTERVAL: Final = 5.0
PASS_MAX: Final = 200
"""Rows one pass evaluates at most (the next pass takes the rest)."""
DRAIN_SECONDS: Final = 20.0
"""How long a stopping process waits for the evaluations still running."""

T = TypeVar("T")
_in_flight: set[asyncio.Task[object]] = set()


def in_flight() -> int:
    return len(_in_flight)


async def run_shielded(work: Awaitable[T]) -> T:
    """Run ``work`` in a task the caller's cancellation does not reach; kept in flight until it ends."""
    task: asyncio.Task[T] = asyncio.ensure_future(work)
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)
    return await asyncio.shield(task)


async def drain(within: float = DRAIN_SECONDS) -> int:
    """Wait (at most ``within`` seconds) for the evaluations in flight; how many were still running after it
    (their rows stay in the backlog for the next sweep)."""
    pending = set(_in_flight)
    if not pending:
        return 0
    _, left = await asyncio.wait(pending, timeout=within)
    if left:
        log.warning("%d rule evaluations still running at stop; the backlog keeps their events", len(left))
    return len(left)


class BacklogRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sessions: SessionFactory,
        redis_url: str | None,
        *,
        grace: float = 30.0,
        pass_max: int = PASS_MAX,
    ) -> None:
        self.pool = pool
        self.sessions = sessions
        self.redis_url = redis_url
        self.grace = timedelta(seconds=grace)
        self.pass_max = pass_max

    async def run_due(self, now: datetime | None = None) -> list[uuid.UUID]:
        """Evaluate again every backlog row older than the grace period at ``now`` (default: the clock), oldest
        first, and delete each once evaluated; the rows evaluated. A row whose evaluation fails stays (its attempts
        counted) for the next pass."""
        at = now or datetime.now(UTC)
        tried: list[uuid.UUID] = []
        done: list[uuid.UUID] = []
        while len(tried) < self.pass_max:
            claimed_any = len(tried)
            try:
                async with rule_backlog.claim_due(self.pool, at - self.grace, tried) as claimed:
                    if claimed is None:
                        break
                    tried.append(claimed.id)
                    await rule_backlog.evaluate(
                        self.pool,
                        self.sessions,
                        self.redis_url,
                        claimed.accepted,
                        at,
                        request_id=claimed.request_id,
                        again=True,
                    )
                done.append(claimed.id)
            except Exception:
                log.exception("the rules could not run again on a backlog row; it stays for the next pass")
                if len(tried) == claimed_any:  # no row was claimed: the database is what failed
                    break
        if tried:
            await rule_backlog.prune_takes(self.pool, at)
        return done

    async def watch(self, interval: float = WATCH_INTERVAL) -> None:
        while True:
            try:
                done = await self.run_due()
                if done:
                    log.info("the rules ran again on %d backlog rows", len(done))
            except DATABASE_ERRORS:
                log.warning("could not sweep the rules' backlog; trying again later", exc_info=True)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        """The evaluations requests started and still running are awaited (bounded): a row claimed by a pass is
        held by its transaction only, released when the watch is cancelled."""
        await drain()
