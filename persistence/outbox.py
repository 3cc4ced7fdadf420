"""The outbox: event rows written beside their change, and what operators watch (the backlogs).

Both units of work turn each inserted or changed entity into its events with ``domain.outbox.events.events_of`` (the
one mapping from changes to event types) and write them in the transaction of the change: the SQL unit of work
as one more INSERT, the prefetching one as one more CTE of its single write statement.
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
from sqlalchemy.ext.asyncio import AsyncSession

from domain.outbox.events import DomainEvent
from persistence.tables.outbox import outbox_events

# Column order of the prefetching unit of work's CTE (``persistence.fast.sql.insert_cte`` over the table).
_ARRAY_COLUMNS = tuple(c.name for c in outbox_events.columns if not c.identity)


def event_row(event: DomainEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "schema_version": event.version,
        "region": event.region,
        "subject_kind": event.subject_kind,
        "subject_id": event.subject_id,
        "occurred_at": event.occurred_at,
        "payload": event.payload,
        "dispatched_at": None,
        "published_at": None,
    }


def event_arrays(events: Sequence[DomainEvent]) -> list[list[Any]]:
    """One list per column (JSON as text), for ``unnest`` in the prefetching unit of work's write."""
    rows = [event_row(e) for e in events]
    return [
        [json.dumps(r[name]) for r in rows] if name == "payload" else [r[name] for r in rows] for name in _ARRAY_COLUMNS
    ]


async def write_events(session: AsyncSession, events: Sequence[DomainEvent]) -> None:
    """Insert events in the caller's transaction (one statement for the batch)."""
    if events:
        await session.execute(sa.insert(outbox_events), [event_row(e) for e in events])


async def backlog(pool: asyncpg.Pool, now: datetime) -> tuple[int, float]:
    """Events not yet fanned out to webhooks, and the age in seconds of the oldest (0 when none): the gauges
    ``/metrics`` exposes. One index-only look at the undispatched events."""
    row = await pool.fetchrow(
        "SELECT count(*) AS n, min(occurred_at) AS oldest FROM outbox_events WHERE dispatched_at IS NULL"
    )
    assert row is not None
    oldest = row["oldest"]
    return int(row["n"]), max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


@dataclass(frozen=True)
class EndpointBacklog:
    endpoint_id: uuid.UUID
    pending: int
    oldest_seconds: float
    """How long the oldest PENDING delivery has existed (0 when none)."""


async def delivery_backlog(pool: asyncpg.Pool, now: datetime) -> list[EndpointBacklog]:
    """Per enabled endpoint, its PENDING deliveries and the age of the oldest (the ``/metrics`` gauges). The
    pending deliveries are read through their partial index, then joined to the endpoints."""
    rows = await pool.fetch(
        """
        WITH p AS (
          SELECT endpoint_id, count(*) AS n, min(created_at) AS oldest
          FROM webhook_deliveries WHERE state = 'PENDING' GROUP BY endpoint_id
        )
        SELECT w.id, coalesce(p.n, 0) AS n, p.oldest
        FROM webhook_endpoints w LEFT JOIN p ON p.endpoint_id = w.id
        WHERE w.disabled_at IS NULL ORDER BY w.id
        """
    )
    return [
        EndpointBacklog(r["id"], int(r["n"]), max(0.0, (now - r["oldest"]).total_seconds()) if r["oldest"] else 0.0)
        for r in rows
    ]
