"""The dispatcher's SQL: fan events out to deliveries, lease due deliveries, record outcomes, mark publications.

Every step is one statement (or one short transaction) on a plain asyncpg connection, safe with several
dispatchers at once:

- ``fan_out`` takes undispatched events ``FOR UPDATE SKIP LOCKED``, inserts one delivery per enabled endpoint
  that wants the event's type and region, and marks the events dispatched, in one statement: an event is fanned
  out once, whoever takes it, and a dispatcher killed meanwhile leaves it untouched.
- ``lease_due`` leases PENDING deliveries whose time has come (``FOR UPDATE SKIP LOCKED``, at most
  ``per_endpoint`` per endpoint, skipping endpoints this dispatcher is still busy with) until a lease expiry, and
  counts the attempt. No other dispatcher takes a leased delivery before its lease expires, so one event is
  never sent to one endpoint twice at the same time; a dispatcher killed mid-send leaves a lease that expires,
  and the delivery is tried again (at least once).
- ``record_all`` writes the outcomes of attempts (one statement for many), each guarded by the version its lease
  wrote (a dispatcher whose lease ran out cannot overwrite a newer attempt's outcome).

Delivery bookkeeping is operational state written by the dispatcher (no audit event per attempt); what people do
to endpoints and deliveries (register, rotate, disable, redeliver, retry what is pending: ``SqlPendingDeliveries``)
goes through the unit of work and is audited.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import sqlalchemy as sa

from domain.outbox.events import DomainEvent
from domain.outbox.webhook import MAX_ATTEMPTS, DeliveryState, WebhookEndpoint, retry_delay
from persistence.fast.sql import entity_from_json
from persistence.repositories import WEBHOOK_ENDPOINTS
from persistence.uow import RecordKind, SqlUnitOfWork, Subject

FAN_OUT = """
WITH ev AS (
  SELECT id, type, region, occurred_at FROM outbox_events WHERE dispatched_at IS NULL
  ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
), wanted AS (
  INSERT INTO webhook_deliveries
    (id, region, endpoint_id, event_id, state, attempts, next_attempt_at, created_at, updated_at, version)
  SELECT gen_random_uuid(), ev.region, w.id, ev.id, 'PENDING', 0, $2, $2, $2, 1
  FROM ev JOIN webhook_endpoints w
    ON w.disabled_at IS NULL AND ev.type = ANY(w.event_types) AND ev.region = ANY(w.regions)
   AND w.created_at <= ev.occurred_at
  ON CONFLICT (endpoint_id, event_id) DO NOTHING
  RETURNING 1
), done AS (
  UPDATE outbox_events o SET dispatched_at = $2 FROM ev WHERE o.id = ev.id RETURNING 1
)
SELECT (SELECT count(*) FROM done) AS events, (SELECT count(*) FROM wanted) AS deliveries
"""

LEASE = """
WITH ranked AS (
  SELECT d.id, row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS rank
  FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.disabled_at IS NULL
  WHERE d.state = 'PENDING' AND d.next_attempt_at <= $1
    AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1) AND NOT (d.endpoint_id = ANY($5::uuid[]))
), due AS (
  SELECT d.id FROM webhook_deliveries d
  WHERE d.id IN (SELECT id FROM ranked WHERE rank <= $4)
  ORDER BY d.next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d
SET lease_expires_at = $2, attempts = d.attempts + 1, last_attempt_at = $1, updated_at = $1, version = d.version + 1
FROM due, outbox_events e, webhook_endpoints w
WHERE d.id = due.id AND e.id = d.event_id AND w.id = d.endpoint_id
  AND d.state = 'PENDING' AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)
RETURNING d.id, d.version, d.attempts, e.id AS event_id, e.type, e.schema_version, e.region, e.subject_kind,
  e.subject_id, e.occurred_at, e.payload::text AS payload, to_jsonb(w)::text AS endpoint
"""

RECORD = """
UPDATE webhook_deliveries d
SET state = u.state, next_attempt_at = u.next_at, lease_expires_at = NULL, last_status = u.status,
    last_error = u.error, delivered_at = u.delivered_at, updated_at = $8, version = d.version + 1
FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::timestamptz[], $5::integer[], $6::text[],
            $7::timestamptz[]) AS u(id, version, state, next_at, status, error, delivered_at)
WHERE d.id = u.id AND d.version = u.version
"""

UNPUBLISHED = """
SELECT id, type, schema_version, region, subject_kind, subject_id, occurred_at, payload::text AS payload
FROM outbox_events WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
"""


@dataclass(frozen=True)
class Lease:
    """A delivery leased to this dispatcher: the event to send and the endpoint to send it to."""

    delivery_id: uuid.UUID
    version: int
    attempts: int
    event: DomainEvent
    endpoint: WebhookEndpoint


FAN_OUT_BATCH = 500


async def fan_out(conn: asyncpg.Connection, now: datetime, *, batch: int = FAN_OUT_BATCH) -> tuple[int, int]:
    """(events fanned out, deliveries created)."""
    row = await conn.fetchrow(FAN_OUT, batch, now)
    assert row is not None
    return int(row["events"]), int(row["deliveries"])


async def lease_due(
    conn: asyncpg.Connection,
    now: datetime,
    until: datetime,
    *,
    batch: int,
    per_endpoint: int,
    busy: Sequence[uuid.UUID] = (),
) -> list[Lease]:
    rows = await conn.fetch(LEASE, now, until, batch, per_endpoint, list(busy))
    return [Lease(r["id"], r["version"], r["attempts"], event_from(r), endpoint_from(r["endpoint"])) for r in rows]


@dataclass(frozen=True)
class Outcome:
    """What one attempt of a leased delivery came to, ready to be recorded."""

    lease: Lease
    state: DeliveryState
    next_attempt_at: datetime
    status: int | None
    error: str | None
    delivered_at: datetime | None


def outcome(lease: Lease, now: datetime, *, status: int | None, error: str | None, jitter: float) -> Outcome:
    """DELIVERED on 2xx, else tried again after a backoff, or DEAD after the last attempt."""
    if status is not None and 200 <= status < 300:
        return Outcome(lease, DeliveryState.DELIVERED, now, status, None, now)
    if lease.attempts >= MAX_ATTEMPTS:
        return Outcome(lease, DeliveryState.DEAD, now, status, error, None)
    return Outcome(lease, DeliveryState.PENDING, now + retry_delay(lease.attempts, jitter), status, error, None)


async def record_all(conn: asyncpg.Connection, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Outcomes of many attempts in one statement, each guarded by the version its lease wrote."""
    if not outcomes:
        return
    await conn.execute(
        RECORD,
        [o.lease.delivery_id for o in outcomes],
        [o.lease.version for o in outcomes],
        [o.state.value for o in outcomes],
        [o.next_attempt_at for o in outcomes],
        [o.status for o in outcomes],
        [o.error for o in outcomes],
        [o.delivered_at for o in outcomes],
        now,
    )


async def unpublished(conn: asyncpg.Connection, *, batch: int) -> list[DomainEvent]:
    """Events not yet published, locked (``SKIP LOCKED``) until the caller's transaction ends."""
    return [event_from(r) for r in await conn.fetch(UNPUBLISHED, batch)]


async def mark_published(conn: asyncpg.Connection, ids: Sequence[uuid.UUID], now: datetime) -> None:
    await conn.execute("UPDATE outbox_events SET published_at = $1 WHERE id = ANY($2::uuid[])", now, list(ids))


def event_from(row: Any) -> DomainEvent:
    return DomainEvent(
        id=row["event_id"] if "event_id" in row else row["id"],
        type=row["type"],
        version=row["schema_version"],
        region=row["region"],
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        occurred_at=row["occurred_at"],
        payload=json.loads(row["payload"]),
    )


def endpoint_from(text: str) -> WebhookEndpoint:
    endpoint: WebhookEndpoint = entity_from_json(WEBHOOK_ENDPOINTS, text)
    return endpoint


RETRY_NOW = sa.text(
    """
    UPDATE webhook_deliveries
    SET next_attempt_at = :now, attempts = 0, lease_expires_at = NULL, updated_at = :now, version = version + 1
    WHERE endpoint_id = :endpoint AND state = 'PENDING' AND (lease_expires_at IS NULL OR lease_expires_at <= :now)
    """
)


class SqlPendingDeliveries:
    """``domain.outbox.services.webhooks.PendingDeliveries`` in the unit of work's transaction: one statement,
    audited as one event on the endpoint (how many were made due)."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def retry_now(self, endpoint: WebhookEndpoint, now: datetime) -> int:
        result = await self.uow.session.execute(RETRY_NOW, {"now": now, "endpoint": endpoint.id})
        retried = int(result.rowcount)  # type: ignore[attr-defined]
        audit = self.uow.audit
        self.uow.record(WEBHOOK_RETRIES, Subject(endpoint.id), action=audit.operation, after={"retried": retried})
        return retried


WEBHOOK_RETRIES = RecordKind("Webhook")
