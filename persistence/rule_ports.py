"""``domain.services.rule_runs.RunPorts`` on PostgreSQL: each LIVE action in a unit of work of its own (the action
and its audit record together), as the rule's AUTOMATION actor; labels upserted with their expiry; an action past
a cap or breaker enqueued for review; a delayed action stored with its due time (``persistence.delayed_actions``).

An event may be evaluated twice (``persistence.rule_backlog``): so each action's unit of work also counts it
against the daily tallies (``take_quota`` answers "not spent" and the count is made here, last before the commit)
and records it in ``rule_action_takes`` under (rule, event, kind, n-th of its kind in the hit). A second
evaluation finds that record and returns its result: nothing is done, audited or counted again. Two evaluations
at once: the second's record conflicts with the first's and its unit of work rolls back.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

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
        again: bool = False,
    ) -> None:
        """``draw``: uniform in [0, 1), where a delayed action's due time falls in its window; ``again``: the events
        may have been evaluated before (each action looks for its record before acting). One run per instance."""
        self.counters = counters
        self._pool = pool
        self._sessions = sessions
        self._request_id = request_id
        self._breaker = breaker
        self._draw = draw
        self._again = again
        self._nth: dict[tuple[uuid.UUID, uuid.UUID, str], int] = {}

    async def facts(
        self, wanted: Iterable[tuple[str, str, str]], now: datetime
    ) -> Mapping[tuple[str, str, str], EntityFacts]:
        return await rule_runtime.fetch_facts(self._pool, wanted, now)

    async def snoozed(self, wanted: Iterable[tuple[str, str, str]], now: datetime) -> set[tuple[str, ...]]:
        wanted = list(wanted)
        found: set[tuple[str, ...]] = set(await rule_runtime.snoozed(self._pool, wanted, now))
        return found | await rule_stats.rule_snoozed(self._pool, wanted, now)  # one rule's, after a QA review

    async def take_quota(self, rule: ActiveRule, action_kind: str, now: datetime) -> str | None:
        """Counted in the action's own unit of work (``act``), once per action whatever the evaluations. Known spent
        before acting: a cap of zero, and a cap or breaker this process saw spent today (``rule_runtime.spent``:
        tallies only grow within a day), so a flood past the breaker is not attempted and rolled back each time."""
        if rule.daily_action_cap is not None and rule.daily_action_cap <= 0:
            return "daily cap"
        return rule_runtime.spent(self._sessions, rule, action_kind, now, self._breaker)

    async def record_hits(self, hits: Sequence[HitRecord], now: datetime) -> None:
        await rule_runtime.record_hits(self._pool, hits, now)

    def _audit(self, rule: ActiveRule) -> AuditContext:
        actor = rule_actor(rule)
        return AuditContext("AUTOMATION", actor.id, "ruleAction", self._request_id)

    def _key(self, rule: ActiveRule, accepted: Accepted, kind: str) -> int:
        key = (rule.rule_id, accepted.event_id, kind)
        nth = self._nth[key] = self._nth.get(key, -1) + 1
        return nth

    async def act(self, rule: ActiveRule, accepted: Accepted, action: Action, now: datetime) -> ActionResult:
        kind = action_kind(action)
        nth = self._key(rule, accepted, kind)
        if self._again:
            found = await rule_runtime.action_taken(self._pool, rule.rule_id, accepted.event_id, kind, nth)
            if found is not None:
                return found
        try:
            if isinstance(action, Label):
                async with SqlUnitOfWork(self._sessions, self._audit(rule)) as uow:
                    result = await write_label(uow, rule, accepted, action, now)
                    await self._count(uow.session, rule, accepted, kind, nth, result, now)
                    return result
            async with PostgresUnitOfWork(self._sessions, self._audit(rule)) as uow:
                result = await take_action(uow, rule, accepted, action)
                await self._count(uow.session, rule, accepted, kind, nth, result, now)
                return result
        except rule_runtime.QuotaSpent as spent:  # rolled back: nothing was done, nothing counted
            return await self._enqueue(rule, accepted, action, spent.reason, now, nth)
        except rule_runtime.AlreadyTaken:
            return await self._taken_by_another(rule, accepted, kind, nth)
        except DomainError as exc:
            return ActionResult(kind, Outcome.FAILED, f"{exc.code.value}: {exc.message}")

    async def _count(
        self,
        session: AsyncSession,
        rule: ActiveRule,
        accepted: Accepted,
        kind: str,
        nth: int,
        result: ActionResult,
        now: datetime,
    ) -> None:
        # The record first: a concurrent evaluation of the event waits here, before the region's hot tally rows.
        await rule_runtime.record_take(session, rule.rule_id, accepted.event_id, kind, nth, result, now)
        await rule_runtime.count_action(session, rule, kind, now, self._breaker, self._sessions)

    async def _taken_by_another(self, rule: ActiveRule, accepted: Accepted, kind: str, nth: int) -> ActionResult:
        found = await rule_runtime.action_taken(self._pool, rule.rule_id, accepted.event_id, kind, nth)
        return found or ActionResult(kind, Outcome.FAILED, "taken by another evaluation of the event")

    async def enqueue(
        self, rule: ActiveRule, accepted: Accepted, action: Action, reason: str, now: datetime
    ) -> ActionResult:
        kind = action_kind(action)
        nth = self._key(rule, accepted, kind)
        if self._again:
            found = await rule_runtime.action_taken(self._pool, rule.rule_id, accepted.event_id, kind, nth)
            if found is not None:
                return found
        return await self._enqueue(rule, accepted, action, reason, now, nth)

    async def _enqueue(
        self, rule: ActiveRule, accepted: Accepted, action: Action, reason: str, now: datetime, nth: int
    ) -> ActionResult:
        """The action withheld and its subject put before a human; recorded as the action's result (``nth``), so
        a second evaluation neither enqueues again nor takes the action then."""
        kind = action_kind(action)
        try:
            async with PostgresUnitOfWork(self._sessions, self._audit(rule)) as uow:
                result = await enqueue_for_review(uow, rule, accepted, action, reason)
                await rule_runtime.record_take(uow.session, rule.rule_id, accepted.event_id, kind, nth, result, now)
                return result
        except rule_runtime.AlreadyTaken:
            return await self._taken_by_another(rule, accepted, kind, nth)
        except DomainError as exc:
            return ActionResult(kind, Outcome.FAILED, f"{reason}; {exc.code.value}: {exc.message}")

    async def schedule(
        self, rule: ActiveRule, accepted: Accepted, action: Delayed, position: int, now: datetime
    ) -> ActionResult:
        due = due_time(now, action, self._draw)
        due = await delayed_actions.schedule(self._pool, rule, accepted, action, position, due, now)
        return ActionResult(action_kind(action), Outcome.SCHEDULED, f"due at {due.isoformat()}")
