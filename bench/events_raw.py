"""The baseline of ``bench.events``, in its own process: the same events as plain multi-row INSERTs into
``platform_events`` through asyncpg, one statement and transaction per batch, from ``concurrency`` connections.

    python -m bench.events_raw JOB.json     # prints one JSON line: count (events), seconds

JOB: {"dsn": ..., "concurrency": 8, "source_id": ..., "batches": [[event, ...], ...]} where an event is as
``submitEvents`` takes it (``type``, ``region``, ``entities`` [{kind, externalId}], ``attributes``, ``occurredAt``,
``idempotencyKey``). What it leaves out is what Vigil adds: checks, the idempotency keys, the audit record.
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

COLUMNS = (
    "id", "occurred_at", "region", "type", "entities", "attributes", "idempotency_key", "source_id", "batch_id",
    "received_at",
)  # fmt: skip


def row(event: dict[str, Any], source_id: str, batch_id: uuid.UUID) -> list[Any]:
    entities = {e["kind"].lower(): e["externalId"] for e in event["entities"]}
    return [
        uuid.uuid4(), datetime.fromisoformat(event["occurredAt"]), event["region"], event["type"],
        json.dumps(entities), json.dumps(event["attributes"]), event["idempotencyKey"], source_id, batch_id, None,
    ]  # fmt: skip


def statement(rows: int) -> str:
    width = len(COLUMNS)
    casts = {4: "::jsonb", 5: "::jsonb"}
    values = ", ".join(
        "(" + ", ".join(f"${r * width + c + 1}{casts.get(c, '')}" for c in range(width)) + ")" for r in range(rows)
    )
    return f"INSERT INTO platform_events ({', '.join(COLUMNS)}) VALUES {values}"


async def run(job: dict[str, Any]) -> dict[str, Any]:
    source_id = job["source_id"]
    batches = [[row(e, source_id, uuid.uuid4()) for e in batch] for batch in job["batches"]]  # before the clock
    connections = [await asyncpg.connect(job["dsn"]) for _ in range(int(job["concurrency"]))]
    cursor = iter(batches)
    count = 0

    async def work(conn: asyncpg.Connection) -> None:
        nonlocal count
        prepared: dict[int, Any] = {}
        for batch in cursor:
            now = datetime.now(UTC)
            args = [now if value is None else value for r in batch for value in r]
            size = len(batch)
            if size not in prepared:
                prepared[size] = await conn.prepare(statement(size))
            async with conn.transaction():
                await prepared[size].fetch(*args)
            count += size

    started = time.perf_counter()
    await asyncio.gather(*(work(c) for c in connections))
    elapsed = time.perf_counter() - started
    for conn in connections:
        await conn.close()
    return {"count": count, "seconds": elapsed}


def main() -> None:
    with open(sys.argv[1]) as handle:
        job = json.load(handle)
    print(json.dumps(asyncio.run(run(job))))


if __name__ == "__main__":
    main()
