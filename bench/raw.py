"""Baselines in their own process: what PostgreSQL does through plain asyncpg, without Vigil.

    python -m bench.raw JOB.json     # prints one JSON line: count, seconds

JOB modes:
- ``insert``: ``count`` single-row INSERTs into ``table`` (same shape and indexes as ``reports``), each in its own
  transaction, from ``concurrency`` connections;
- ``sql``: ``count`` runs of the statement ``sql`` (with ``args``) from ``concurrency`` connections, one
  transaction each, fetching every row.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg


async def run(job: dict[str, Any]) -> dict[str, Any]:
    count, concurrency = int(job["count"]), int(job["concurrency"])
    connections = [await asyncpg.connect(job["dsn"]) for _ in range(concurrency)]
    cursor = iter(range(count))
    latencies: list[float] = []
    if job["mode"] == "insert":
        table, template = job["table"], job["row"]
        columns = list(template)
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})"
        )
        fixed = [_value(template[c]) for c in columns]

        async def work(conn: asyncpg.Connection) -> None:
            statement = await conn.prepare(sql)
            for _ in cursor:
                now = datetime.now(UTC)
                values = [_fresh(v, now) for v in fixed]
                started = time.perf_counter()
                async with conn.transaction():
                    await statement.fetch(*values)
                latencies.append(time.perf_counter() - started)
    else:
        sql, args = job["sql"], [_value(a) for a in job.get("args", [])]

        async def work(conn: asyncpg.Connection) -> None:
            statement = await conn.prepare(sql)
            for _ in cursor:
                started = time.perf_counter()
                async with conn.transaction():
                    await statement.fetch(*args)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(work(c) for c in connections))
    elapsed = time.perf_counter() - started
    for conn in connections:
        await conn.close()
    latencies.sort()
    return {"count": count, "seconds": elapsed, "p50_ms": 1000 * latencies[len(latencies) // 2]}


def _fresh(value: Any, now: datetime) -> Any:
    """Placeholders of an insert template: ``$uuid`` a new id, ``$key`` a new text key, ``$now`` the time."""
    if value == "$uuid":
        return uuid.uuid4()
    if value == "$key":
        return uuid.uuid4().hex
    return now if value == "$now" else value


def _value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("uuid:"):
        return uuid.UUID(value[5:])
    if isinstance(value, list) and value and all(isinstance(v, str) and v.startswith("uuid:") for v in value):
        return [uuid.UUID(v[5:]) for v in value]
    return value


def main() -> None:
    with open(sys.argv[1]) as handle:
        job = json.load(handle)
    print(json.dumps(asyncio.run(run(job))))


if __name__ == "__main__":
    main()
