"""Claiming under contention: 32 claimers drain a queue through the production server vs raw SQL ``SKIP LOCKED``.

Both drains run against one embedded PostgreSQL, on equal queues of fresh OPEN cases, from separate processes.
The API drain sends `claimNextCase` over HTTP to `vigil serve` in production mode (token, schema, permission
map, prefetching unit of work, optimistic version check and one hash-chained audit event per claim). The raw
drain is the floor: one `SELECT ... FOR UPDATE SKIP LOCKED` + `UPDATE` statement per claim, in its own
transaction, through plain asyncpg, reading the same two partial indexes as the API's claim (the first free case,
the first expired lease: ``persistence.operations.claimable_case``). Both check that every case was claimed
exactly once.

    .venv/bin/python -m bench.claims [--cases 5000] [--claimers 32]
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from api.graphql.ids import parse_any, to_global_id
from bench.stack import Stack, load, ratio_line, run_process, server_cpu_seconds
from persistence.db import create_engine, create_session_factory
from persistence.fast.sql import asyncpg_dsn
from persistence.principals import SYSTEM_AUDIT, create_token, ensure_staff
from persistence.tables.cases import cases
from persistence.tables.operations import queues
from persistence.uow import SqlUnitOfWork

CLAIM = """mutation($q: ID!) { claimNextCase(input: {queueId: $q}) {
  __typename ... on ClaimNextCaseSuccess { case { id } } ... on Error { code message } } }"""

RAW_CLAIM = sa.text(
    """
    WITH next AS (
      SELECT id FROM (
        SELECT * FROM (SELECT id, sla_due_at, priority FROM cases
          WHERE queue_id = :queue AND state IN ('OPEN', 'ASSIGNED') AND lease_expires_at IS NULL
          ORDER BY sla_due_at, priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) AS unleased
        UNION ALL
        SELECT * FROM (SELECT id, sla_due_at, priority FROM cases
          WHERE queue_id = :queue AND state IN ('OPEN', 'ASSIGNED') AND lease_expires_at <= now()
          ORDER BY sla_due_at, priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) AS expired
      ) AS free ORDER BY sla_due_at, priority DESC, id LIMIT 1)
    UPDATE cases SET state = 'ASSIGNED', assignee_id = :who, lease_expires_at = now() + interval '15 minutes',
                     version = cases.version + 1, updated_at = now()
    FROM next WHERE cases.id = next.id
    RETURNING cases.id"""
)


WARM_UP = 300
"""Claims drained through the API, untimed, from a queue of their own before the measured drain: the server's
connections opened and its statements prepared, as the raw drain's connections are opened before its clock
starts (the other benchmarks warm their server alike)."""


async def seed(url: str, n: int, claimers: int, warm_up: int = 0) -> tuple[list[uuid.UUID], list[str]]:
    """Two equal queues of ``n`` OPEN cases each (then a third of ``warm_up`` cases, if any), and one moderator
    token per claimer."""
    now = datetime.now(UTC)
    engine = create_engine(url, pool_size=1)
    tokens: list[str] = []
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            session = uow.session
            queue_ids = [uuid.uuid4(), uuid.uuid4(), *([uuid.uuid4()] if warm_up else [])]
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
            for queue_id, count in zip(queue_ids, (n, n, warm_up), strict=False):
                rows = [_case(queue_id, i, now) for i in range(count)]
                for start in range(0, count, 1000):
                    await session.execute(sa.insert(cases), rows[start : start + 1000])
            for i in range(claimers):
                principal = await ensure_staff(
                    uow, name=f"bench-mod-{i}", display_name=f"bench-mod-{i}", role="moderator", region="US"
                )
                _, secret = await create_token(
                    uow, principal_id=principal, name="bench", scopes=None, region=None, issued_by=None,
                    expires_at=now + timedelta(hours=1), now=now,
                )  # fmt: skip
                tokens.append(secret)
    finally:
        await engine.dispose()
    return queue_ids, tokens


CREATED_AGO = timedelta(days=30)
"""The synthetic cases' age: older than any a benchmark's page lists (``seed_scale``'s end an hour ago), so a page
measured after the queues were seeded still shows the cases it stands for (these have no stored subject)."""


def _case(queue_id: uuid.UUID, i: int, now: datetime) -> dict[str, object]:
    return {
        "id": uuid.uuid4(), "region": "US", "subject_kind": "CONTENT", "subject_id": uuid.uuid4(),
        "subject_account_id": uuid.uuid4(), "surface": "CONTENT", "state": "OPEN", "priority": i % 100,
        "report_count": 1, "queue_id": queue_id, "sla_due_at": now + timedelta(hours=4, milliseconds=i),
        "created_at": now - CREATED_AGO, "updated_at": now, "version": 1,
    }  # fmt: skip


def api_drain(
    stack: Stack, queue_id: uuid.UUID, token: str, n: int, claimers: int, warm_queue: uuid.UUID | None = None
) -> tuple[float, Counter[str], float]:
    queue = to_global_id("Queue", queue_id)
    bodies = [{"query": CLAIM, "variables": {"q": queue}} for _ in range(n)]
    headers = {"Authorization": f"Bearer {token}"}
    # The 32 claimers share one moderator token: the per-principal rate limit (200/s per worker) would refuse
    # most of a fast drain, and it is not what this measures.
    with stack.server(VIGIL_RATE_LIMIT_STAFF="1000000/1000000") as port:
        if warm_queue is not None:
            warm = {"query": CLAIM, "variables": {"q": to_global_id("Queue", warm_queue)}}
            load(port, [warm] * WARM_UP, claimers, headers)
        cpu = server_cpu_seconds(stack)
        result = load(port, bodies, claimers, headers, keep=-1)
        cpu_ms = 1000 * (server_cpu_seconds(stack) - cpu) / n
    claimed: Counter[str] = Counter()
    for body in result["bodies"]:
        claim = body["data"]["claimNextCase"]
        if claim["__typename"] != "ClaimNextCaseSuccess" or claim["case"] is None:
            raise SystemExit(f"claim failed: {claim}")
        claimed[raw(claim["case"]["id"])] += 1
    return float(result["seconds"]), claimed, cpu_ms


def raw_drain(stack: Stack, queue_id: uuid.UUID, n: int, claimers: int) -> float:
    sql = RAW_CLAIM.text.replace(":queue", "$1").replace(":who", "$2")
    job = {"mode": "sql", "dsn": asyncpg_dsn(stack.url), "sql": sql, "args": [f"uuid:{queue_id}", "raw"],
           "count": n, "concurrency": claimers}  # fmt: skip
    return float(run_process("bench.raw", job)["seconds"])


def raw(global_id: str) -> str:
    parsed = parse_any(global_id)
    if parsed is None:
        raise RuntimeError(f"not a global id: {global_id}")
    return parsed[1]


def _check(name: str, claimed: Counter[str], expected: int) -> None:
    if len(claimed) != expected or set(claimed.values()) != {1}:
        raise SystemExit(f"{name}: {len(claimed)} distinct cases claimed, expected {expected} each exactly once")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--claimers", type=int, default=32)
    args = parser.parse_args(argv)
    n, claimers = args.cases, args.claimers
    with Stack() as stack:
        (api_queue, raw_queue, warm_queue), tokens = asyncio.run(seed(stack.url, n, 1, warm_up=WARM_UP))
        api_s, api_claimed, cpu_ms = api_drain(stack, api_queue, tokens[0], n, claimers, warm_queue)
        _check("api", api_claimed, n)
        raw_s = raw_drain(stack, raw_queue, n, claimers)
        left = asyncio.run(_unclaimed(stack.url, raw_queue))
        if left:
            raise SystemExit(f"raw: {left} cases left unclaimed")
    api_rate, raw_rate = n / api_s, n / raw_s
    print(f"claims: {n} cases, {claimers} concurrent claimers, every case claimed exactly once in both drains")
    print(ratio_line(f"claimNextCase x{claimers}", api_rate, "raw SKIP LOCKED", raw_rate,
                     f"target >= 0.6; server CPU {cpu_ms:.1f} ms/claim"))  # fmt: skip


async def _unclaimed(url: str, queue_id: uuid.UUID) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            query = sa.select(sa.func.count()).where(cases.c.queue_id == queue_id, cases.c.assignee_id.is_(None))
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
