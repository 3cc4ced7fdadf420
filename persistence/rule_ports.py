"""``domain.services.rule_runs.RunPorts`` on PostgreSQL: each LIVE action in a unit of work of its own (the action
and its audit record together), as the rule's AUTOMATION actor; labels upserted with their expiry; an action past
a cap or breaker enqueued for review; a delayed action stored with its due time (``persistence.delayed_actions``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

import asyncpg

from domain.errors import DomainError
from domain.rules import Action, Delayed, Label
from domain.rules.ports import CounterStore, EntityFacts
from domain.services.delayed_actions import due_time
from domain.services.events import Accepted
from domain.services.rule_actions import enqueue_for_review, rule_actor, take_action
from domain.services.rule_runs import ActionResult, ActiveRule, HitRecord, Outcome, action_kind
from persistence import delayed_actions, rule_runtime, rule_stats
from persistence.db import SessionFactory
from persistence.repositories import PostgresUnitOfWork
from persistence.rule_labels import write_label
from persistence.uow import AuditContext, SqlUnitOfWork


class PostgresRunPorts:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sessions: SessionFactory,
        counters: CounterStore,
        *,
        request_id: str | None = None,
        breaker: int = rule_runtime.BREAKER_DAILY,
        draw: Callable[[], float] = random.random,
    ) -> None:
        """``draw``: uniform in [0, 1), where a delayed action's due time falls in its window."""
        self.counters = counters
        self._pool = pool
        self._sessions = sessions
        self._request_id = request_id
        self._breaker = breaker
        self._draw = draw

    async def facts(
        self, wanted: Iterable[tuple[str, str, str]], now: datetime
    ) -> Mapping[tuple[str, str, str], EntityFacts]:
        return await rule_runtime.fetch_facts(self._pool, wanted, now)

    async def snoozed(self, wanted: Iterable[tuple[str, str, str]], now: datetime) -> set[tuple[str, ...]]:
        wanted = list(wanted)
        found: set[tuple[str, ...]] = set(await rule_runtime.snoozed(self._pool, wanted, now))
        return found | await rule_stats.rule_snoozed(self._pool, wanted, now)  # one rule's, after a QA review

    async def take_quota(self, rule: ActiveRule, action_kind: str, now: datetime) -> str | None:
        return await rule_runtime.take_quota(self._pool, rule, action_kind, now, self._breaker)

    async def record_hits(self, hits: Sequence[HitRecord], now: datetime) -> None:
        await rule_runtime.record_hits(self._pool, hits, now)

    def _audit(self, rule: ActiveRule) -> AuditContext:
        actor = rule_actor(rule)
        return AuditContext("AUTOMATION", actor.id, "ruleAction", self._request_id)

    async def act(self, rule: ActiveRule, accepted: Accepted, action: Action, now: datetime) -> ActionResult:
        try:
            if isinstance(action, Label):
                async with SqlUnitOfWork(self._sessions, self._audit(rule)) as uow:
                    return await write_label(uow, rule, accepted, action, now)
            async with PostgresUnitOfWork(self._sessions, self._audit(rule)) as uow:
                return await take_action(uow, rule, accepted, action)
        except DomainError as exc:
            return ActionResult(action_kind(action), Outcome.FAILED, f"{exc.code.value}: {exc.message}")

    async def enqueue(
        self, rule: ActiveRule, accepted: Accepted, action: Action, reason: str, now: datetime
    ) -> ActionResult:
        try:
            async with PostgresUnitOfWork(self._sessions, self._audit(rule)) as uow:
                return await enqueue_for_review(uow, rule, accepted, action, reason)
        except DomainError as exc:
            return ActionResult(action_kind(action), Outcome.FAILED, f"{reason}; {exc.code.value}: {exc.message}")

    async def schedule(
        self, rule: ActiveRule, accepted: Accepted, action: Delayed, position: int, now: datetime
    ) -> ActionResult:
        due = due_time(now, action, self._draw)
        await delayed_actions.schedule(self._pool, rule, accepted, action, position, due, now)
        return ActionResult(action_kind(action), Outcome.SCHEDULED, f"due at {due.isoformat()}")
