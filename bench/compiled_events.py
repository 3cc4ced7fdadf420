"""The compiled ``submitEvents`` of 1,000 events in-process: Python calls and CPU per request, with the compiled
plans keeping strawberry's union and ``is_type_of`` answers per class (``CompiledExecution.class_answers``) and
without.

An in-process app (``create_app``, httpx's ASGI transport) on a fresh database of the PostgreSQL server at
``--server`` (created, migrated, dropped at the end) answers the shipped ``api/console/SubmitEvents.graphql`` by its
id, each batch the same 1,000 events (one in 50 refused) under new keys. Printed: for each side, the Python
function calls of one request (cProfile's total, the client's and the database driver's included: it varies by a
few thousand with how the database's answers arrive) and of some steps of strawberry and graphql-core in it; the
calls made inside two synchronous steps (``sys.setprofile``, the same on every run): completing the 1,000 result
items (the compiled ``complete_list``) and converting the ``input`` argument (strawberry's ``get_arguments``); then,
over ``--rounds`` requests per side alternated (on, off, off, on, ...), the medians of the process CPU per request
(noisy: the app's work after a response, the event loop's) and of the wall time completing the 1,000 items.

    .venv/bin/python -m bench.compiled_events [--server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]
        [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from api.graphql.compiler import runtime
from api.graphql.compiler.cache import LRU
from persistence.fast.sql import asyncpg_dsn

DOCUMENT = Path(__file__).resolve().parents[1] / "api" / "console" / "SubmitEvents.graphql"
REGIONS = ["EU", "US", "APAC", "ROW"]
WATCHED = (
    "_resolve_union_type",
    "ensure_valid_runtime_type",
    "is_type_of",
    "__instancecheck__",
    "get_arguments",
    "convert_argument",
)
"""Functions whose calls per request are printed beside the total (strawberry's and graphql-core's steps the
shortcuts replace)."""
STEPS = ("complete_list", "get_arguments")


def batch(count: int = 1000) -> dict[str, Any]:
    """The same events every time (each request's shape, so its count of calls, is the same) with new keys."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    events = []
    for serial in range(count):
        kind = rng.choice(["content.posted", "content.edited", "message.sent"])
        entities = [{"kind": "ACCOUNT", "externalId": f"acct-{rng.randrange(10_000)}"}]
        if kind.startswith("content."):
            entities.append({"kind": "CONTENT", "externalId": f"bench-c{serial}"})
        events.append(
            {
                "type": kind if (serial + 1) % 50 else "",  # one in 50 refused: both members of the items' union
                "region": rng.choice(REGIONS),
                "entities": entities,
                "attributes": {"text": f"words {serial}"},
                "occurredAt": (now - timedelta(seconds=rng.uniform(0, 600))).isoformat(),
                "idempotencyKey": f"bench-{uuid.uuid4().hex}",
            }
        )
    return {"input": {"events": events}}


async def _database(server: str, name: str, *, drop: bool) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(server))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"' if drop else f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _prepare(url: str) -> str:
    from api.cli.documents import register_with
    from bench.stack import platform_token
    from domain.document import new_document
    from persistence.db import create_engine, create_session_factory
    from persistence.principals import SYSTEM_AUDIT
    from persistence.uow import SqlUnitOfWork

    engine = create_engine(url, pool_size=1)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            await register_with(uow, [new_document("SubmitEvents", DOCUMENT.read_text())])
            return await platform_token(uow)
    finally:
        await engine.dispose()


class StepCalls:
    """Python and C calls made inside the named functions (synchronous steps: nothing else runs meanwhile), by
    ``sys.setprofile``: the same count on every run, unlike the request's total (the event loop's and the driver's
    calls vary with how the database's answers arrive)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.counts = dict.fromkeys(names, 0)
        self.inside: list[Any] = []

    def __call__(self, frame: Any, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_code.co_name in self.names and not self.inside:
            self.inside.append(frame)
            self.counts[frame.f_code.co_name] += 1
        elif self.inside and event in ("call", "c_call"):
            self.counts[self.inside[0].f_code.co_name] += 1
        elif event == "return" and self.inside and frame is self.inside[0]:
            self.inside.pop()


def _calls(profile: cProfile.Profile) -> dict[str, int]:
    stats = pstats.Stats(profile)
    counts = dict.fromkeys(("total", *WATCHED), 0)
    counts["total"] = int(stats.total_calls)  # type: ignore[attr-defined]
    for (_, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        if name in counts:
            counts[name] += int(row[1])
    return counts


async def _run(url: str, rounds: int) -> None:
    import httpx

    from api.app import create_app
    from api.settings import Environment, Settings
    from domain.document import document_id

    token = await _prepare(url)
    completing: list[float] = []
    complete_list = runtime.complete_list

    def timed_complete_list(*args: Any) -> Any:  # the plans compiled from now on call it (a list: synchronous here)
        started = time.perf_counter()
        try:
            return complete_list(*args)
        finally:
            completing.append(time.perf_counter() - started)

    runtime.complete_list = timed_complete_list  # type: ignore[assignment]
    app = create_app(Settings(env=Environment.TEST, rate_limits=False), database_url=url)
    text = DOCUMENT.read_text()
    async with app.router.lifespan_context(app):
        graphql_app = next(r.app for r in app.routes if getattr(r, "path", "") == "/graphql")  # type: ignore[attr-defined]
        compiled = graphql_app.compiled
        plans = {True: LRU(), False: LRU()}
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test", timeout=120) as client:

            async def request(shortcuts: bool, profile: cProfile.Profile | None = None) -> tuple[float, float]:
                compiled.class_answers = shortcuts  # each side its own plans, compiled once
                compiled.plans = plans[shortcuts]
                body = {"documentId": document_id(text), "variables": batch()}
                await asyncio.sleep(0.05)  # the previous request's work after its response done
                completing.clear()
                started = time.process_time()
                if profile is not None:
                    profile.enable()
                response = await client.post("/graphql", json=body, headers=headers)
                if profile is not None:
                    profile.disable()
                spent = time.process_time() - started
                answer = response.json()
                assert "errors" not in answer, answer["errors"]
                results = answer["data"]["submitEvents"]["results"]
                assert len(results) == 1000
                assert results[0]["__typename"] == "SubmitEventSuccess", results[0]
                return 1000 * spent, 1000 * sum(completing)

            for shortcuts in (False, True):
                await request(shortcuts)  # compiles the plan, warms the caches
                await request(shortcuts)
                profile = cProfile.Profile()
                await request(shortcuts, profile)
                counts = _calls(profile)
                steps_counter = StepCalls(STEPS)
                sys.setprofile(steps_counter)
                try:
                    await request(shortcuts)
                finally:
                    sys.setprofile(None)
                inside = ", ".join(f"{name} {n:,}" for name, n in steps_counter.counts.items())
                print(f"  calls inside the steps: {inside}")
                steps = ", ".join(f"{name} {counts[name]:,}" for name in WATCHED)
                print(f"class answers {'on ' if shortcuts else 'off'}: {counts['total']:,} calls per request ({steps})")
            cpu: dict[bool, list[float]] = {True: [], False: []}
            items: dict[bool, list[float]] = {True: [], False: []}
            for serial in range(2 * rounds):
                shortcuts = serial % 4 in (0, 3)  # on, off, off, on: neither side always follows the other
                spent, completed = await request(shortcuts)
                cpu[shortcuts].append(spent)
                items[shortcuts].append(completed)
            for name, times in (("process CPU per request", cpu), ("completing the 1,000 items", items)):
                on, off = statistics.median(times[True]), statistics.median(times[False])
                print(
                    f"{name}, median of {rounds} alternated: off {off:.2f} ms   on {on:.2f} ms   on/off {on / off:.3f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--server",
        default=os.environ.get("VIGIL_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server's URL (a database is created on it and dropped at the end)",
    )
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    from persistence import migrate

    name = f"vigil_bench_ce_{uuid.uuid4().hex[:8]}"
    asyncio.run(_database(args.server, name, drop=False))
    try:
        url = args.server.rsplit("/", 1)[0] + "/" + name
        migrate.upgrade(url)
        asyncio.run(_run(url, args.rounds))
    finally:
        asyncio.run(_database(args.server, name, drop=True))


if __name__ == "__main__":
    main()
