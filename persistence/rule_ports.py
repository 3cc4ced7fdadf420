"""``domain.services.rule_runs.RunPorts`` on PostgreSQL: each LIVE action in a unit of work of its own (the action
and its audit record together), as the rule's AUTOMATION actor; labels upserted with their expiry."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import asyncpg
from sqlalchemy.dialects.postgresql import insert

from domain.errors import DomainError
from domain.rules import Action, Label
from domain.rules.ports import CounterStore, EntityFacts
from domain.services.events import Accepted
from domain.services.rule_actions import rule_actor, take_action
from domain.services.rule_runs import ActionResult, ActiveRule, HitRecord, Outcome
from persistence import rule_runtime, rule_stats
from persistence.db import SessionFactory
from persistence.repositories import PostgresUnitOfWork
from persistence.tables.rules import labels
from persistence.uow import AuditContext, RecordKind, SqlUnitOfWork, Subject

LABEL = RecordKind("label")


class PostgresRunPorts:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sessions: SessionFactory,
        counters: CounterStore,
        *,
        request_id: str | None = None,
        breaker: int = rule_runtime.BREAKER_DAILY,
    ) -> None:
        self.counters = counters
        self._pool = pool
        self._sessions = sessions
        self._request_id = request_id
        self._breaker = breaker

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
        if isinstance(action, Label):
            return await self._label(rule, accepted, action, now)
        try:
            async with PostgresUnitOfWork(self._sessions, self._audit(rule)) as uow:
                return await take_action(uow, rule, accepted, action)
        except DomainError as exc:
            return ActionResult(type(action).__name__.upper(), Outcome.FAILED, f"{exc.code.value}: {exc.message}")

    async def _label(self, rule: ActiveRule, accepted: Accepted, action: Label, now: datetime) -> ActionResult:
        entity_id = accepted.event.entities.get(action.entity_kind)
        if entity_id is None:
            return ActionResult("LABEL", Outcome.FAILED, f"the event names no {action.entity_kind}")
        expires = now + action.expiry if action.expiry is not None else None
        row = {
            "id": uuid.uuid4(),
            "region": accepted.event.region,
            "entity_kind": action.entity_kind,
            "entity_id": entity_id,
            "name": action.name,
            "rule_id": rule.rule_id,
            "rule_version": rule.version,
            "expires_at": expires,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        upsert = insert(labels).values(row)
        stmt = upsert.on_conflict_do_update(
            index_elements=["region", "entity_kind", "entity_id", "name"],
            set_={
                "rule_id": rule.rule_id,
                "rule_version": rule.version,
                "expires_at": expires,
                "updated_at": now,
                "version": labels.c.version + 1,
            },
        ).returning(labels.c.id)
        async with SqlUnitOfWork(self._sessions, self._audit(rule)) as uow:
            label_id = (await uow.session.execute(stmt)).scalar_one()
            after = {k: row[k] for k in ("entity_kind", "entity_id", "name", "rule_version", "expires_at")}
            uow.record(LABEL, Subject(label_id, accepted.event.region), action="ruleLabel", after=after)
        return ActionResult("LABEL", Outcome.TAKEN, f"{action.entity_kind} labelled {action.name}")
