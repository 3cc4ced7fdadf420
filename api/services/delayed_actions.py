"""Running rules' delayed actions in the server process: every few seconds, each action whose due time has come is
claimed, checked and run (or dropped) in a transaction of its own (``persistence.delayed_actions``). Any number of
processes may run this side by side: they claim different actions, and each action runs at most once. ``run_due``
is one pass at a given instant: tests drive it directly. At most once an hour a pass also deletes the actions that
finished more than ``VIGIL_RULES_RETENTION_DAYS`` ago (``prune``), in batches.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Final

import asyncpg

from domain.services.rule_runs import ActionResult
from persistence import delayed_actions, rule_runtime
from persistence.db import SessionFactory
from persistence.errors import DATABASE_ERRORS

log = logging.getLogger("vigil.delayed_actions")
WATCH_INTERVAL: Final = 5.0
PASS_MAX: Final = 1_000
"""Actions one pass runs at most (the next pass takes the rest)."""
PRUNE_EVERY: Final = timedelta(hours=1)
RETENTION_DAYS: Final = 90


class DelayedActionRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sessions: SessionFactory,
        *,
        breaker: int = rule_runtime.BREAKER_DAILY,
        pass_max: int = PASS_MAX,
        retention_days: int = RETENTION_DAYS,
    ) -> None:
        self.pool = pool
        self.sessions = sessions
        self.breaker = breaker
        self.pass_max = pass_max
        self.retention = timedelta(days=retention_days)
        self._pruned_at: datetime | None = None

    async def run_due(self, now: datetime | None = None) -> dict[uuid.UUID, ActionResult]:
        """Run every action due at ``now`` (default: the clock): what became of each (an action that lost a race
        with another writer is left for the next pass and not listed)."""
        at = now or datetime.now(UTC)
        tried: list[uuid.UUID] = []
        done: dict[uuid.UUID, ActionResult] = {}
        while len(tried) < self.pass_max:
            ran = await delayed_actions.run_one(self.pool, self.sessions, at, breaker=self.breaker, tried=tried)
            if ran is None:
                break
            action_id, result = ran
            tried.append(action_id)
            if result is not None:
                done[action_id] = result
        return done

    async def prune(self, now: datetime | None = None) -> int:
        """Delete the actions that finished more than the retention before ``now``; how many."""
        at = now or datetime.now(UTC)
        deleted = await delayed_actions.prune_finished(self.pool, at - self.retention)
        self._pruned_at = at
        if deleted:
            log.info("pruned %d delayed rule actions finished before %s", deleted, (at - self.retention).isoformat())
        return deleted

    async def watch(self, interval: float = WATCH_INTERVAL) -> None:
        while True:
            try:
                ran = await self.run_due()
                if ran:
                    log.info("ran %d delayed rule actions", len(ran))
                now = datetime.now(UTC)
                if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                    await self.prune(now)
            except DATABASE_ERRORS:
                log.warning("could not run delayed rule actions; trying again later", exc_info=True)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        """Nothing is held between passes: an action is claimed and finished inside one transaction."""
