"""A rule's ``label`` action on PostgreSQL: the label upserted with its expiry and the rule version that set it,
audited in the same transaction.

One statement writes any number of labels (``_UPSERT``), for both callers: a batch's LIVE labels in one transaction
of their own (``take_labels``: the batch's records in ``rule_action_takes``, its tallies, its labels and their audit
records, all or nothing) and a delayed action's label in the unit of work that claimed it (``write_label``;
a retroactive run's labels go the same way, ``write_labels``). A label written k times (one entity labelled by
several hits) ends as k writes one after the other would leave it: the last write's rule, version and expiry, its
row version up by k, one audit record per write.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from domain.rules import Label
from domain.services.events import Accepted
from domain.services.rule_actions import rule_actor
from domain.services.rule_runs import ActionResult, ActiveRule, Outcome
from persistence import rule_runtime
from persistence.audit import AuditRecord
from persistence.fast.sql import audit_arrays, insert_cte
from persistence.tables.audit import audit_events
from persistence.uow import AuditContext, RecordKind, SqlUnitOfWork, Subject, audit_record

LABEL = RecordKind("label")
KIND = "LABEL"

# Labels as ``unnest`` arrays, one row per label (its writes grouped by ``_rows``), in one order (its unique key)
# so that two writers of the same labels wait for each other instead of deadlocking.
_UPSERT = """
INSERT INTO labels AS l (id, region, entity_kind, entity_id, name, rule_id, rule_version, expires_at, created_at,
                         updated_at, version)
SELECT u.id, u.region, u.entity_kind, u.entity_id, u.name, u.rule_id, u.rule_version, u.expires_at, $9, $9, u.writes
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::int[], $8::timestamptz[],
            $10::int[]) AS u(id, region, entity_kind, entity_id, name, rule_id, rule_version, expires_at, writes)
ORDER BY u.region, u.entity_kind, u.entity_id, u.name
ON CONFLICT (region, entity_kind, entity_id, name) DO UPDATE
SET rule_id = excluded.rule_id, rule_version = excluded.rule_version, expires_at = excluded.expires_at,
    updated_at = excluded.updated_at, version = l.version + excluded.version
RETURNING l.id, l.region, l.entity_kind, l.entity_id, l.name
"""
# The batch's records of its actions, made first (``ON CONFLICT DO NOTHING``): an evaluation of the same events
# at once waits here for this one's commit and then finds them taken.
_CLAIM = """
INSERT INTO rule_action_takes (rule_id, event_id, action_kind, nth, result, created_at)
SELECT u.rule_id, u.event_id, 'LABEL', u.nth, u.result::jsonb, $5
FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[]) AS u(rule_id, event_id, nth, result)
ORDER BY u.rule_id, u.event_id, u.nth
ON CONFLICT (rule_id, event_id, action_kind, nth) DO NOTHING
RETURNING rule_id, event_id, nth
"""
_STORED = """
SELECT t.rule_id, t.event_id, t.nth, t.result
FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS u(rule_id, event_id, nth)
  JOIN rule_action_takes t ON t.rule_id = u.rule_id AND t.event_id = u.event_id AND t.action_kind = 'LABEL'
                          AND t.nth = u.nth
"""
# The records of actions past a limit: not taken here (their enqueueing records them).
_UNCLAIM = """
DELETE FROM rule_action_takes t USING unnest($1::uuid[], $2::uuid[], $3::int[]) AS u(rule_id, event_id, nth)
WHERE t.rule_id = u.rule_id AND t.event_id = u.event_id AND t.action_kind = 'LABEL' AND t.nth = u.nth
"""
_AUDIT, _ = insert_cte(audit_events, 1)


@dataclass(frozen=True)
class LabelTake:
    """One LIVE label action of a batch: ``nth``, its place among its rule's labels on the event (its record's key)."""

    rule: ActiveRule
    accepted: Accepted
    action: Label
    nth: int


def label_result(accepted: Accepted, action: Label) -> ActionResult:
    """What writing the label comes to (decided before writing: the event names the entity or not)."""
    if accepted.event.entities.get(action.entity_kind) is None:
        return ActionResult(KIND, Outcome.FAILED, f"the event names no {action.entity_kind}")
    return ActionResult(KIND, Outcome.TAKEN, f"{action.entity_kind} labelled {action.name}")


def _after(rule: ActiveRule, accepted: Accepted, action: Label, now: datetime) -> dict[str, Any]:
    """One write's values as its audit record shows them (the label's key and what the write set)."""
    return {
        "entity_kind": action.entity_kind,
        "entity_id": accepted.event.entities[action.entity_kind],
        "name": action.name,
        "rule_version": rule.version,
        "expires_at": now + action.expiry if action.expiry is not None else None,
    }


def _rows(writes: Sequence[tuple[ActiveRule, Accepted, Label]], now: datetime) -> list[Any]:
    """``_UPSERT``'s parameters for ``writes`` in their order: one row per label, with its last write's values and
    how many writes it takes."""
    by_key: dict[tuple[str, str, str, str], tuple[ActiveRule, dict[str, Any], int]] = {}
    for rule, accepted, action in writes:
        after = _after(rule, accepted, action, now)
        key = (accepted.event.region, after["entity_kind"], after["entity_id"], after["name"])
        before = by_key.get(key)
        by_key[key] = (rule, after, 1 if before is None else before[2] + 1)
    rows = list(by_key.items())
    return [
        [uuid.uuid4() for _ in rows],
        [k[0] for k, _ in rows],
        [k[1] for k, _ in rows],
        [k[2] for k, _ in rows],
        [k[3] for k, _ in rows],
        [rule.rule_id for _, (rule, _, _) in rows],
        [rule.version for _, (rule, _, _) in rows],
        [after["expires_at"] for _, (_, after, _) in rows],
        now,
        [n for _, (_, _, n) in rows],
    ]


def _label_ids(rows: Sequence[Any]) -> dict[tuple[str, str, str, str], uuid.UUID]:
    return {(r["region"], r["entity_kind"], r["entity_id"], r["name"]): r["id"] for r in rows}


async def write_label(
    uow: SqlUnitOfWork, rule: ActiveRule, accepted: Accepted, action: Label, now: datetime
) -> ActionResult:
    """One label in the caller's unit of work (a delayed action's claiming one), audited as its actor."""
    result = label_result(accepted, action)
    if result.outcome is Outcome.TAKEN:
        await write_labels(uow, rule, [(accepted, action)], now)
    return result


async def write_labels(
    uow: SqlUnitOfWork, rule: ActiveRule, writes: Sequence[tuple[Accepted, Label]], now: datetime
) -> None:
    """Labels whose events name their entities, in one statement in the caller's unit of work, each write audited
    as its actor (a retroactive run's)."""
    if not writes:
        return
    connection = await uow.session.connection()
    written = await connection.exec_driver_sql(_UPSERT, tuple(_rows([(rule, a, label) for a, label in writes], now)))
    label_ids = _label_ids(written.mappings().all())
    for accepted, action in writes:
        after = _after(rule, accepted, action, now)
        label_id = label_ids[(accepted.event.region, *_key(after))]
        uow.record(LABEL, Subject(label_id, accepted.event.region), action="ruleLabel", after=after)


def _key(after: dict[str, Any]) -> tuple[str, str, str]:
    return after["entity_kind"], after["entity_id"], after["name"]


async def take_labels(
    pool: asyncpg.Pool,
    takes: Sequence[LabelTake],
    now: datetime,
    *,
    breaker: int,
    request_id: str | None,
    database: object,
) -> list[ActionResult | str]:
    """A batch's LIVE labels in one transaction, one result each in their order, or, for one past its rule's cap
    or its region's breaker, the reason (nothing written or recorded for it: the caller enqueues it).

    Its statements, whatever the number of labels: the records of the actions (one taken by another evaluation
    keeps that evaluation's result and is neither counted nor written), the tallies (``rule_runtime.
    count_actions``: two), the records of the ones past a limit removed (when there are some), the labels, their
    audit records (each as the rule version that wrote it), and the transaction's BEGIN and COMMIT."""
    results: list[ActionResult | str | None] = [None] * len(takes)
    outcomes = [label_result(t.accepted, t.action) for t in takes]
    async with pool.acquire() as conn, conn.transaction():
        claimed = {
            (r["rule_id"], r["event_id"], r["nth"])
            for r in await conn.fetch(
                _CLAIM,
                [t.rule.rule_id for t in takes],
                [t.accepted.event_id for t in takes],
                [t.nth for t in takes],
                [orjson.dumps(o.as_dict()).decode() for o in outcomes],
                now,
            )
        }
        mine = [i for i, t in enumerate(takes) if (t.rule.rule_id, t.accepted.event_id, t.nth) in claimed]
        theirs = [i for i, t in enumerate(takes) if (t.rule.rule_id, t.accepted.event_id, t.nth) not in claimed]
        if theirs:
            await _taken_by_another(conn, takes, theirs, results)
        spent = await rule_runtime.count_actions(conn, [takes[i].rule for i in mine], KIND, now, breaker, database)
        past = [i for i, why in zip(mine, spent, strict=True) if why is not None]
        if past:
            await conn.execute(
                _UNCLAIM,
                [takes[i].rule.rule_id for i in past],
                [takes[i].accepted.event_id for i in past],
                [takes[i].nth for i in past],
            )
        counted = [i for i, why in zip(mine, spent, strict=True) if why is None]
        writes = [i for i in counted if outcomes[i].outcome is Outcome.TAKEN]
        if writes:
            await _write(conn, [takes[i] for i in writes], now, request_id)
        for i, why in zip(mine, spent, strict=True):
            results[i] = outcomes[i] if why is None else why
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


async def _taken_by_another(
    conn: asyncpg.Connection, takes: Sequence[LabelTake], theirs: list[int], results: list[ActionResult | str | None]
) -> None:
    rows = await conn.fetch(
        _STORED,
        [takes[i].rule.rule_id for i in theirs],
        [takes[i].accepted.event_id for i in theirs],
        [takes[i].nth for i in theirs],
    )
    stored = {(r["rule_id"], r["event_id"], r["nth"]): rule_runtime.result_of(r["result"]) for r in rows}
    for i in theirs:
        t = takes[i]
        found = stored.get((t.rule.rule_id, t.accepted.event_id, t.nth))
        results[i] = found or ActionResult(KIND, Outcome.FAILED, "taken by another evaluation of the event")


async def _write(conn: asyncpg.Connection, takes: Sequence[LabelTake], now: datetime, request_id: str | None) -> None:
    """The labels and one audit record per write, as the rule version that made it."""
    label_ids = _label_ids(await conn.fetch(_UPSERT, *_rows([(t.rule, t.accepted, t.action) for t in takes], now)))
    at = datetime.now(UTC)
    records: list[AuditRecord] = []
    for t in takes:
        after = _after(t.rule, t.accepted, t.action, now)
        region = t.accepted.event.region
        audit = AuditContext("AUTOMATION", rule_actor(t.rule).id, "ruleLabel", request_id)
        records.append(audit_record(audit, at, LABEL, Subject(label_ids[(region, *_key(after))], region), None, after))
    await conn.execute(_AUDIT, *audit_arrays(records))
