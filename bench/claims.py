"""Claiming under contention: 32 claimers drain a queue through the GraphQL API vs raw SQL ``SKIP LOCKED``.

Both drains run in one process against one embedded PostgreSQL, on equal queues of fresh OPEN cases. The API
drain sends `claimNextCase` through the real ASGI app (in-process, httpx.ASGITransport): token check, schema,
permission map, unit of work, optimistic version check and one hash-chained audit event per claim. The raw
drain is the floor: one `SELECT ... FOR UPDATE SKIP LOCKED` and one `UPDATE` per claim, nothing else. Both
check that every case was claimed exactly once.

    .venv/bin/python -m bench.claims [--cases 5000] [--claimers 32]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from api.app import create_app
from api.graphql.ids import parse_any, to_global_id
from api.settings import Settings
from persistence import migrate
from persistence.db import create_engine, create_session_factory
from persistence.embedded import start_embedded
from persistence.principals import create_token, ensure_staff
from persistence.tables.cases import cases
from persistence.tables.operations import queues

CLAIM = """mutation($q: ID!) { claimNextCase(input: {queueId: $q}) {
  __typename ... on ClaimNextCaseSuccess { case { id } } ... on Error { code message } } }"""

RAW_CLAIM = sa.text(
    """
    WITH next AS (
      SELECT id FROM cases
      WHERE queue_id = :queue AND state IN ('OPEN', 'ASSIGNED')
        AND (lease_expires_at IS NULL OR lease_expires_at <= now())
      ORDER BY sla_due_at, priority DESC, id
      LIMIT 1 FOR UPDATE SKIP LOCKED)
    UPDATE cases SET state = 'ASSIGNED', assignee_id = :who, lease_expires_at = now() + interval '15 minutes',
                     version = cases.version + 1, updated_at = now()
    FROM next WHERE cases.id = next.id
    RETURNING cases.id"""
)


async def seed(url: str, n: int, claimers: int) -> tuple[uuid.UUID, uuid.UUID, list[str]]:
    """Two equal queues of ``n`` OPEN cases each, and one moderator token per claimer."""
    now = datetime.now(UTC)
    engine = create_engine(url, pool_size=1)
    tokens: list[str] = []
    try:
        async with create_session_factory(engine)() as session, session.begin():
            queue_ids = [uuid.uuid4(), uuid.uuid4()]
            await session.execute(
                sa.insert(queues),
                [
                    {"id": q, "region": "US", "name": f"bench-{i}", "surface": "CONTENT", "policies": [],
                     "languages": [], "roles": ["moderator"], "is_default": False, "created_at": now,
                     "updated_at": now, "version": 1, "sla_urgent_hours": 4, "sla_high_hours": 12,
                     "sla_medium_hours": 24, "sla_low_hours": 48, "qa_sample_bp": 500}
                    for i, q in enumerate(queue_ids)
                ],
            )  # fmt: skip
            for queue_id in queue_ids:
                rows = [_case(queue_id, i, now) for i in range(n)]
                for start in range(0, n, 1000):
                    await session.execute(sa.insert(cases), rows[start : start + 1000])
            for i in range(claimers):
                principal = await ensure_staff(
                    session, name=f"bench-mod-{i}", display_name=f"bench-mod-{i}", role="moderator", region="US"
                )
                _, secret = await create_token(
                    session, principal_id=principal, name="bench", scopes=None, region=None, issued_by=None,
                    expires_at=now + timedelta(hours=1), now=now,
                )  # fmt: skip
                tokens.append(secret)
    finally:
        await engine.dispose()
    return queue_ids[0], queue_ids[1], tokens


def _case(queue_id: uuid.UUID, i: int, now: datetime) -> dict[str, object]:
    return {
        "id": uuid.uuid4(), "region": "US", "subject_kind": "CONTENT", "subject_id": uuid.uuid4(),
        "subject_account_id": uuid.uuid4(), "surface": "CONTENT", "state": "OPEN", "priority": i % 100,
        "report_count": 1, "queue_id": queue_id, "sla_due_at": now + timedelta(hours=4, milliseconds=i),
        "created_at": now, "updated_at": now, "version": 1,
    }  # fmt: skip


async def api_drain(url: str, queue_id: uuid.UUID, tokens: list[str], pool: int) -> tuple[float, Counter[str]]:
    app = create_app(Settings(env="test", db_pool_size=pool), database_url=url)  # type: ignore[arg-type]
    claimed: Counter[str] = Counter()
    queue = to_global_id("Queue", queue_id)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:

            async def claimer(token: str) -> None:
                headers = {"Authorization": f"Bearer {token}"}
                while True:
                    response = await client.post("/graphql", json={"query": CLAIM, "variables": {"q": queue}},
                                                 headers=headers)  # fmt: skip
                    result = response.json()["data"]["claimNextCase"]
                    if result["__typename"] != "ClaimNextCaseSuccess":
                        raise RuntimeError(f"claim failed: {result}")
                    if result["case"] is None:
                        return
                    claimed[str(raw(result["case"]["id"]))] += 1

            started = time.perf_counter()
            await asyncio.gather(*(claimer(t) for t in tokens))
            elapsed = time.perf_counter() - started
    return elapsed, claimed


async def raw_drain(url: str, queue_id: uuid.UUID, claimers: int) -> tuple[float, Counter[str]]:
    engine = create_engine(url, pool_size=claimers)
    claimed: Counter[str] = Counter()

    async def claimer(who: str) -> None:
        async with engine.connect() as conn:
            while True:
                async with conn.begin():
                    row = (await conn.execute(RAW_CLAIM, {"queue": queue_id, "who": who})).first()
                if row is None:
                    return
                claimed[str(row[0])] += 1

    try:
        started = time.perf_counter()
        await asyncio.gather(*(claimer(f"raw-{i}") for i in range(claimers)))
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return elapsed, claimed


def raw(global_id: str) -> str:
    parsed = parse_any(global_id)
    if parsed is None:
        raise RuntimeError(f"not a global id: {global_id}")
    return parsed[1]


def _check(name: str, claimed: Counter[str], expected: int) -> None:
    if len(claimed) != expected or set(claimed.values()) != {1}:
        raise SystemExit(f"{name}: {len(claimed)} distinct cases claimed, expected {expected} each exactly once")


async def run(url: str, n: int, claimers: int) -> None:
    api_queue, raw_queue, tokens = await seed(url, n, claimers)
    api_s, api_claimed = await api_drain(url, api_queue, tokens, pool=claimers)
    _check("api", api_claimed, n)
    raw_s, raw_claimed = await raw_drain(url, raw_queue, claimers)
    _check("raw", raw_claimed, n)
    api_rate, raw_rate = n / api_s, n / raw_s
    print(f"claims: {n} cases, {claimers} concurrent claimers, every case claimed exactly once in both drains")
    print(f"graphql claimNextCase:   {api_rate:8.0f} claims/s ({api_s:.2f} s)")
    print(f"raw SQL SKIP LOCKED:     {raw_rate:8.0f} claims/s ({raw_s:.2f} s)")
    print(f"ratio api/raw:           {api_rate / raw_rate:8.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--claimers", type=int, default=32)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        server = start_embedded(Path(tmp) / "pg", throwaway=True)
        try:
            server.ensure_database("bench")
            url = server.url("bench")
            migrate.upgrade(url)
            asyncio.run(run(url, args.cases, args.claimers))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
