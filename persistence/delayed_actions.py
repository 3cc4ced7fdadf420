"""Delayed rule actions on PostgreSQL (``domain.services.delayed_actions``): scheduling, claiming and running.

Each due action runs in one unit of work that claims its row (``FOR UPDATE SKIP LOCKED``: concurrent runners take
different rows), takes the action as the rule version that scheduled it, marks the row with the result and rewrites
that action's entry in the hit (``rule_hits``) with it, then commits: the action, its audit records and the row's
new state together. A process that stops before the commit leaves the row PENDING for the next run; once committed
the row is never run again. So each action runs at most once, and surely once some runner gets to it.

A finished row is kept ``VIGIL_RULES_RETENTION_DAYS`` (90) after it ran, then deleted in batches
(``prune_finished``): while it exists, an event evaluated again finds its (rule, event, position) taken and
schedules nothing. The hit keeps what became of the action.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError
from domain.rules import Action, Delayed, Label
from domain.rules.actions import from_json, to_json
from domain.rules.event import Event
from domain.services.delayed_actions import PendingAction, run_pending
from domain.services.events import Accepted
from domain.services.rule_actions import enqueue_for_review, rule_actor, take_action
from domain.services.rule_runs import ActionResult, ActiveRule, Outcome, action_kind
from domain.services.rules import RuleState
from persistence import rule_runtime, rule_stats
from persistence.db import SessionFactory
from persistence.repositories import PostgresUnitOfWork
from persistence.retry import LostRace
from persistence.rule_labels import write_label
from persistence.uow import AuditContext

_SCHEDULE = """
INSERT INTO rule_delayed_actions (id, rule_id, rule_version, region, position, event_id, event, action_kind, action,
                                  due_at, state, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, 'PENDING', $11)
ON CONFLICT (rule_id, event_id, position) DO UPDATE SET due_at = rule_delayed_actions.due_at
RETURNING due_at
"""
_CLAIM = sa.text("""
SELECT id, rule_id, rule_version, region, event_id, event, action, due_at, created_at, position
FROM rule_delayed_actions
WHERE state = 'PENDING' AND due_at <= :now AND NOT (id = ANY(CAST(:tried AS uuid[])))
ORDER BY due_at, id
LIMIT 1
FOR UPDATE SKIP LOCKED
""")
_LOCK = sa.text("SELECT id FROM rule_delayed_actions WHERE id = :id AND state = 'PENDING' FOR UPDATE SKIP LOCKED")
_FINISH = sa.text("""
UPDATE rule_delayed_actions SET state = :state, outcome = CAST(:outcome AS jsonb), executed_at = :now
WHERE id = :id AND state = 'PENDING'
""")
# The hit that scheduled the action shows what became of it (ruleHits, ruleStats read the hit's actions). One hit
# per rule and event (uq_rule_hits_rule_event): the hit an evaluation of the event recorded, whichever it was (a
# second evaluation schedules nothing new and records no second hit).
_HIT = sa.text("""
UPDATE rule_hits SET actions = jsonb_set(actions, CAST(:path AS text[]), CAST(:outcome AS jsonb))
WHERE rule_id = :rule_id AND rule_version = :version AND event_id = :event_id
""")
_RULE = """
SELECT r.state, r.name, v.policy_id, c.daily_action_cap, c.expires_at
FROM rules r
  JOIN rule_versions v ON v.rule_id = r.id AND v.number = $2
  JOIN rule_versions c ON c.rule_id = r.id AND c.number = r.current_version
WHERE r.id = $1
"""
_PENDING = "SELECT count(*) FROM rule_delayed_actions WHERE rule_id = $1 AND state = 'PENDING'"
_PENDING_BY_REGION = "SELECT region, count(*) AS pending FROM rule_delayed_actions WHERE state = 'PENDING' GROUP BY 1"
# Finished actions (DONE, DROPPED, FAILED) executed before $1, $2 at most: their rows are the oldest, first in the
# heap, so a batch's scan stops early without an index of its own.
_PRUNE = """
DELETE FROM rule_delayed_actions WHERE id IN (
  SELECT id FROM rule_delayed_actions WHERE state <> 'PENDING' AND executed_at < $1 LIMIT $2
)
"""
PRUNE_BATCH: Final = 5_000
_STATE = {
    Outcome.TAKEN: "DONE",
    Outcome.WITHHELD: "DONE",
    Outcome.DROPPED: "DROPPED",
    Outcome.FAILED: "FAILED",
}


async def schedule(
    pool: asyncpg.Pool,
    rule: ActiveRule,
    accepted: Accepted,
    action: Delayed,
    position: int,
    due_at: datetime,
    now: datetime,
) -> datetime:
    """Store the hit's ``position``-th action to run at ``due_at`` (an event retried or evaluated again schedules
    it once); the due time stored (the first evaluation's)."""
    event = accepted.event
    stored = {
        "type": event.type,
        "entities": dict(event.entities),
        "occurred_at": event.occurred_at.isoformat(),
        "idempotency_key": event.idempotency_key,
    }
    async with pool.acquire() as conn:
        scheduled: datetime = await conn.fetchval(
            _SCHEDULE,
            uuid.uuid4(),
            rule.rule_id,
            rule.version,
            rule.region,
            position,
            accepted.event_id,
            orjson.dumps(stored).decode(),
            action_kind(action),
            orjson.dumps(to_json(action.action)).decode(),
            due_at,
            now,
        )
    return scheduled


async def pending_by_region(pool: asyncpg.Pool) -> dict[str, int]:
    """Actions waiting for their due time (or a runner), per region (one statement, by the partial due index)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_PENDING_BY_REGION)
    return {r["region"]: r["pending"] for r in rows}


async def prune_finished(pool: asyncpg.Pool, before: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete the finished actions (DONE, DROPPED, FAILED) executed before ``before``, ``batch`` rows per statement
    (each its own transaction: no long lock, no long transaction); how many. PENDING ones are never touched."""
    deleted = 0
    while True:
        async with pool.acquire() as conn:
            status: str = await conn.execute(_PRUNE, before, batch)
        count = int(status.split()[-1])
        deleted += count
        if count < batch:
            return deleted


async def pending_count(pool: asyncpg.Pool, rule_id: uuid.UUID) -> int:
    async with pool.acquire() as conn:
        found: int = await conn.fetchval(_PENDING, rule_id)
    return found


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _pending(row: sa.RowMapping) -> PendingAction:
    stored = _json(row["event"])
    event = Event(
        type=stored["type"],
        region=row["region"],
        entities=stored["entities"],
        attributes={},
        occurred_at=datetime.fromisoformat(stored["occurred_at"]),
        idempotency_key=stored.get("idempotency_key", ""),
    )
    return PendingAction(
        id=row["id"],
        rule_id=row["rule_id"],
        rule_version=row["rule_version"],
        region=row["region"],
        event_id=row["event_id"],
        event=event,
        action=from_json(_json(row["action"])),
        due_at=row["due_at"],
    )


async def rule_now(pool: asyncpg.Pool, rule_id: uuid.UUID, version: int, region: str) -> ActiveRule | None:
    """The rule as it stands now (state, current cap and expiry) at ``version`` (its name, policy; the actor)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_RULE, rule_id, version)
    if row is None:
        return None
    return ActiveRule(
        rule_id=rule_id,
        version=version,
        region=region,
        name=row["name"],
        state=RuleState(row["state"]),
        policy_id=row["policy_id"],
        daily_action_cap=row["daily_action_cap"],
        expires_at=row["expires_at"],
    )


class ClaimedPorts:
    """``domain.services.delayed_actions.DuePorts`` inside the unit of work that claimed the action."""

    def __init__(self, uow: PostgresUnitOfWork, pool: asyncpg.Pool, breaker: int) -> None:
        self._uow = uow
        self._pool = pool
        self._breaker = breaker

    async def snoozed(self, wanted: Iterable[tuple[str, str, str]], now: datetime) -> set[tuple[str, ...]]:
        wanted = list(wanted)
        found: set[tuple[str, ...]] = set(await rule_runtime.snoozed(self._pool, wanted, now))
        return found | await rule_stats.rule_snoozed(self._pool, wanted, now)

    async def take_quota(self, rule: ActiveRule, action_kind: str, now: datetime) -> str | None:
        return await rule_runtime.take_quota(self._pool, rule, action_kind, now, self._breaker)

    async def act(self, rule: ActiveRule, accepted: Accepted, action: Action, now: datetime) -> ActionResult:
        if isinstance(action, Label):
            return await write_label(self._uow, rule, accepted, action, now)
        return await take_action(self._uow, rule, accepted, action)

    async def enqueue(
        self, rule: ActiveRule, accepted: Accepted, action: Action, reason: str, now: datetime
    ) -> ActionResult:
        return await enqueue_for_review(self._uow, rule, accepted, action, reason)


async def _finish(
    session: AsyncSession,
    pending: PendingAction,
    position: int,
    created_at: datetime,
    result: ActionResult,
    now: datetime,
) -> None:
    outcome = orjson.dumps(result.as_dict()).decode()
    await session.execute(
        _FINISH, {"state": _STATE.get(result.outcome, "DONE"), "outcome": outcome, "now": now, "id": pending.id}
    )
    await session.execute(
        _HIT,
        {
            "path": [str(position)],
            "outcome": outcome,
            "rule_id": pending.rule_id,
            "version": pending.rule_version,
            "event_id": pending.event_id,
        },
    )


async def run_one(
    pool: asyncpg.Pool,
    sessions: SessionFactory,
    now: datetime,
    *,
    breaker: int = rule_runtime.BREAKER_DAILY,
    tried: Sequence[uuid.UUID] = (),
) -> tuple[uuid.UUID, ActionResult | None] | None:
    """Claim one due action (none of ``tried``) and run it, or drop it: its id and result (None: it lost a race
    with another writer and stays PENDING for the next run); None when nothing is due."""
    audit = AuditContext("AUTOMATION", "rules", "ruleAction", None)
    claimed: tuple[PendingAction, int, datetime] | None = None
    try:
        async with PostgresUnitOfWork(sessions, audit) as uow:
            row = (await uow.session.execute(_CLAIM, {"now": now, "tried": list(tried)})).mappings().first()
            if row is None:
                return None
            claimed = pending, position, created_at = _pending(row), row["position"], row["created_at"]
            rule = await rule_now(pool, pending.rule_id, pending.rule_version, pending.region)
            if rule is not None:  # everything it writes cites the version that scheduled it
                uow.audit = AuditContext("AUTOMATION", rule_actor(rule).id, "ruleAction", None)
            result = await run_pending(pending, rule, ClaimedPorts(uow, pool, breaker), now)
            await _finish(uow.session, pending, position, created_at, result, now)
            return pending.id, result
    except DomainError as exc:  # rolled back: nothing of the action stays
        if claimed is None:
            raise
        pending, position, created_at = claimed
        if isinstance(exc, LostRace):
            return pending.id, None
        failed = ActionResult(action_kind(pending.action), Outcome.FAILED, f"{exc.code.value}: {exc.message}")
        async with PostgresUnitOfWork(sessions, audit) as uow:
            if (await uow.session.execute(_LOCK, {"id": pending.id})).first() is not None:
                await _finish(uow.session, pending, position, created_at, failed, now)
        return pending.id, failed
