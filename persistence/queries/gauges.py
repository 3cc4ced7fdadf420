"""What an operator's dashboard reads at scrape time: the open workload per region and queue, and how far the
audit sealer trails the writers. Each is ONE set-based statement (no per-queue or per-region loop), so a scrape
costs the same whatever the number of queues; the metrics endpoint caches the answer for a few seconds."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from domain.case import OPEN_STATES

_OPEN = ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATES))  # enum values from the domain, never caller text

# Open cases grouped by region and queue (NULL: waiting outside any queue), with the oldest one's age and how many
# are past their SLA. Runs on the partial unique index of open cases per subject and the state index.
WORKLOAD_SQL = f"""
SELECT c.region, coalesce(q.name, '') AS queue, count(*) AS open_cases,
       coalesce(extract(epoch FROM now() - min(c.created_at)), 0)::float8 AS oldest_seconds,
       count(*) FILTER (WHERE c.sla_due_at < now()) AS sla_breached
FROM cases c LEFT JOIN queues q ON q.id = c.queue_id
WHERE c.state IN ({_OPEN})
GROUP BY c.region, q.name
"""  # noqa: S608 (constants only)

# Events committed after the highest sealed one: how many, and how long the oldest has waited (0 when none).
SEAL_LAG_SQL = """
SELECT count(*) AS unsealed,
       coalesce(extract(epoch FROM now() - min(e.occurred_at)), 0)::float8 AS oldest_seconds
FROM audit_events e
WHERE e.seq > (SELECT coalesce(max(s.event_seq), 0) FROM audit_seals s)
"""


@dataclass(frozen=True)
class QueueWorkload:
    region: str
    queue: str  # the queue's name; "" for cases waiting outside any queue
    open_cases: int
    oldest_seconds: float
    sla_breached: int


@dataclass(frozen=True)
class SealLag:
    unsealed: int
    oldest_seconds: float


async def queue_workload(pool: asyncpg.Pool) -> list[QueueWorkload]:
    rows = await pool.fetch(WORKLOAD_SQL)
    return [
        QueueWorkload(r["region"], r["queue"], r["open_cases"], r["oldest_seconds"], r["sla_breached"]) for r in rows
    ]


async def seal_lag(pool: asyncpg.Pool) -> SealLag:
    row = await pool.fetchrow(SEAL_LAG_SQL)
    assert row is not None
    return SealLag(row["unsealed"], row["oldest_seconds"])
