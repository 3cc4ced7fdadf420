"""The very statements the API sends for a report, sent again by a raw asyncpg client: the database's share of a
report apart from the API's own.

``capture`` runs the app in this process and records, through the pools' query observer, the statements (text and
arguments) trusted ``submitReport`` requests send, each on a fresh subject. Where two captures differ is what varies
per report: the subject (and its advisory lock key), the ids the request made up (case, report, audit events,
outbox event), the idempotency key, the times; everything else (the reporter, the policy, the queue...) is the
same in both. ``python -m bench.statements JOB`` then sends those statements for ``count`` reports from
``concurrency`` connections with the API pools' session settings (so with the same plans), as the API sent them
(its own ``BEGIN``/``COMMIT`` if it sent any: intake's first attempt sends none), with fresh ids, the report's own
subject and key, and the current time.

    python -m bench.statements JOB.json     # prints one JSON line: count, seconds, the client's cpu_seconds
"""

from __future__ import annotations

import asyncio
import json
import pickle
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from persistence.fast.sql import SESSION_SETTINGS

Template = list[tuple[str, tuple[Any, ...]]]


async def capture(url: str, token: str, bodies: list[dict[str, Any]], warm: list[dict[str, Any]]) -> list[Template]:
    """The statements each of ``bodies`` sent (after ``warm``: the caches of tokens, rules and documents filled)."""
    import httpx

    from api.app import create_app
    from api.settings import Environment, Settings
    from persistence.fast.sql import set_query_observer

    app = create_app(Settings(env=Environment.PRODUCTION, rate_limits=False), database_url=url)
    captured: list[Template] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.bench") as client:
            headers = {"Authorization": f"Bearer {token}"}
            for body in warm:
                await client.post("/graphql", json=body, headers=headers)
            for body in bodies:
                seen: Template = []

                def observe(query: Any, seen: Template = seen) -> None:
                    seen.append((query.query, tuple(query.args)))

                set_query_observer(observe)
                try:
                    response = await client.post("/graphql", json=body, headers=headers)
                finally:
                    set_query_observer(None)
                if "SubmitReportSuccess" not in response.text:
                    raise SystemExit(f"the captured report failed: {response.text[:500]}")
                captured.append(seen)
    return captured


def pair(captured: list[Template]) -> int:
    """The index of the first of two consecutive captures that sent the same statements (a process-wide cache's
    poll may have gone out during one of them)."""
    for index in range(len(captured) - 1):
        if [q for q, _ in captured[index]] == [q for q, _ in captured[index + 1]]:
            return index
    raise SystemExit("no two reports sent the same statements: capture again")


def template(first: Template, second: Template, subject: uuid.UUID, key: str) -> dict[str, Any]:
    """What varies between two captures of one report (``first`` on ``subject`` with idempotency ``key``)."""
    varying: set[Any] = set()
    times: list[datetime] = []

    def walk(a: Any, b: Any) -> None:
        if isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b):
            for x, y in zip(a, b, strict=True):
                walk(x, y)
        elif a != b and isinstance(a, uuid.UUID) and a != subject:
            varying.add(a)
        elif isinstance(a, datetime):
            times.append(a)

    for (_, a), (_, b) in zip(first, second, strict=True):
        walk(a, b)
    captured_at = min(times) if times else datetime.now(UTC)
    return {"statements": first, "subject": subject, "key": key, "made_up": sorted(varying, key=str),
            "captured_at": captured_at}  # fmt: skip


def _replacer(job: dict[str, Any], subject: uuid.UUID) -> Callable[[Any], Any]:
    """Maps a captured argument to this report's: fresh ids, its subject and key, times moved to now."""
    from persistence.fast.sql import lock_key

    ids = {old: uuid.uuid4() for old in job["made_up"]}
    lock = {lock_key(job["subject"]): lock_key(subject)}  # the subject's advisory lock, which the write checks
    ids[job["subject"]] = subject
    texts = {str(old): str(new) for old, new in ids.items()}
    texts[job["key"]] = uuid.uuid4().hex
    shift = datetime.now(UTC) - job["captured_at"]

    def replace(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return ids.get(value, value)
        if isinstance(value, int) and value in lock:
            return lock[value]
        if isinstance(value, datetime):
            return value + shift
        if isinstance(value, str) and len(value) >= 32:
            for old, new in texts.items():
                if old in value:
                    value = value.replace(old, new)
            return value
        if isinstance(value, list):
            return [replace(v) for v in value]
        if isinstance(value, tuple):
            return tuple(replace(v) for v in value)
        return value

    return replace


async def run(job: dict[str, Any]) -> dict[str, Any]:
    subjects: list[uuid.UUID] = job["subjects"]
    count, concurrency = min(int(job["count"]), len(subjects)), int(job["concurrency"])
    connections = [await asyncpg.connect(job["dsn"], server_settings=SESSION_SETTINGS) for _ in range(concurrency)]
    cursor = iter(subjects[:count])
    statements: Template = job["statements"]

    async def work(conn: asyncpg.Connection) -> None:
        prepared = [await conn.prepare(query) if args else None for query, args in statements]
        for subject in cursor:
            replace = _replacer(job, subject)
            for statement, (query, args) in zip(prepared, statements, strict=True):
                if statement is None:  # BEGIN, COMMIT: sent as the API sends them
                    await conn.execute(query)
                else:
                    await statement.fetch(*replace(args))

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(work(c) for c in connections))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    for conn in connections:
        await conn.close()
    return {"count": count, "seconds": elapsed, "cpu_seconds": cpu}


def main() -> None:
    with open(sys.argv[1]) as handle:
        path = json.load(handle)["pickle"]
    with open(path, "rb") as handle:
        job = pickle.load(handle)
    print(json.dumps(asyncio.run(run(job))))


if __name__ == "__main__":
    main()
