"""``domain.services.rule_runs.RunPorts`` on PostgreSQL, as the rule's AUTOMATION actor: a batch's LIVE labels in
one transaction (``persistence.rule_labels.take_labels``: their records, counts, labels and audit records, a fixed
number of statements however many labels), every other LIVE action in a unit of work of its own (the action and
its audit record together), an action past a cap or breaker enqueued for review in one of its own; a delayed action
stored with its due time (``persistence.delayed_actions``).

An event may be evaluated twice (``persistence.rule_backlog``): so each action is counted against the daily tallies
in the transaction that takes it, and recorded there in ``rule_action_takes`` under (rule, event, kind, n-th of its
kind in the hit) with its result. A second evaluation finds that record and returns its result: nothing is done,
audited or counted again. Two evaluations at once: the second's record conflicts with the first's (a label's waits
for the first's commit, then is left out; another action's unit of work rolls back).
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
from domain.services.rule_runs import ActionResult, ActiveRule, HitRecord, Outcome, PendingAction, action_kind
from persistence import delayed_actions, rule_runtime, rule_stats
from persistence.db import SessionFactory
from persistence.repositories import PostgresUnitOfWork
from persistence.rule_labels import LabelTake, take_labels
from persistence.uow import AuditContext


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

    def _spent(self, rule: ActiveRule, kind: str, now: datetime) -> str | None:
        """Known spent before counting: a cap of zero, and a cap or breaker this process saw spent today
        (``rule_runtime.spent``: tallies only grow within a day), so a flood past the breaker is not attempted and
        rolled back each time."""
        if rule.daily_action_cap is not None and rule.daily_action_cap <= 0:
            return "daily cap"
        return rule_runtime.spent(self._sessions, rule, kind, now, self._breaker)

    async def take(self, pending: Sequence[PendingAction], now: datetime) -> list[ActionResult]:
        """The batch's labels in one transaction (``rule_labels.take_labels``); then, in the batch's order, every
        other action in a unit of work of its own and every action past a limit enqueued in one of its own. With
        ``again``, the actions an evaluation recorded are looked up first, in one statement, and not taken again."""
        keys = [self._key(p.rule, p.accepted, action_kind(p.action)) for p in pending]
        results: list[ActionResult | None] = [None] * len(pending)
        if self._again:
            found = await rule_runtime.actions_taken(
                self._pool,
                [
                    (p.rule.rule_id, p.accepted.event_id, kind, nth)
                    for p, (kind, nth) in zip(pending, keys, strict=True)
                ],
            )
            for i, (p, (kind, nth)) in enumerate(zip(pending, keys, strict=True)):
                results[i] = found.get((p.rule.rule_id, p.accepted.event_id, kind, nth))
        spent: dict[int, str] = {}
        labels: list[int] = []
        for i, p in enumerate(pending):
            if results[i] is not None or not isinstance(p.action, Label):
                continue
            why = self._spent(p.rule, "LABEL", now)
            if why is not None:
                spent[i] = why
            else:
                labels.append(i)
        if labels:
            takes = [_label_take(pending[i], keys[i][1]) for i in labels]
            taken = await take_labels(
                self._pool, takes, now, breaker=self._breaker, request_id=self._request_id, database=self._sessions
            )
            for i, outcome in zip(labels, taken, strict=True):
                if isinstance(outcome, str):
                    spent[i] = outcome
                else:
                    results[i] = outcome
        for i, p in enumerate(pending):
            if results[i] is not None:
                continue
            kind, nth = keys[i]
            why = spent.get(i) or (None if isinstance(p.action, Label) else self._spent(p.rule, kind, now))
            if why is not None:
                results[i] = await self._enqueue(p.rule, p.accepted, p.action, why, now, nth)
            else:
                results[i] = await self._act(p.rule, p.accepted, p.action, now, nth)
        return [r for r in results if r is not None]

    async def record_hits(self, hits: Sequence[HitRecord], now: datetime) -> None:
        await rule_runtime.record_hits(self._pool, hits, now)

    def _audit(self, rule: ActiveRule) -> AuditContext:
        actor = rule_actor(rule)
        return AuditContext("AUTOMATION", actor.id, "ruleAction", self._request_id)

    def _key(self, rule: ActiveRule, accepted: Accepted, kind: str) -> tuple[str, int]:
        key = (rule.rule_id, accepted.event_id, kind)
        nth = self._nth[key] = self._nth.get(key, -1) + 1
        return kind, nth

    async def _act(self, rule: ActiveRule, accepted: Accepted, action: Action, now: datetime, nth: int) -> ActionResult:
        """An action other than a label (``take_action``), in a unit of work of its own with its record and its
        counts: past a limit it is rolled back and enqueued instead; taken by another evaluation meanwhile, rolled
        back and that one's result returned."""
        kind = action_kind(action)
        try:
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


def _label_take(pending: PendingAction, nth: int) -> LabelTake:
    assert isinstance(pending.action, Label)
    return LabelTake(pending.rule, pending.accepted, pending.action, nth)
