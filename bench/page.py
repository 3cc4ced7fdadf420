"""The console's page and its growth: `cases(first: 100)` with everything a moderation console shows, over HTTP
against the production server, beside hand-written asyncpg SQL fetching the same data, in the same run.

- page: 100 cases with subject, account, reports (with policy), strikes and the decision's actions, at 4
  concurrent clients, against one hand-written statement returning the same rows and relations;
- growth: the moderator's queue listing (one region, OPEN), the all-region listing (admin) and the
  multi-region listing (a moderator in US and EU), at 10k cases and again after growing to ``--large`` cases.

    .venv/bin/python -m bench.page [--small 10000] [--large 1000000] [--requests 200]

With ``--in-process``: the console's ``CasesPage`` (100 cases) sent to the app in this process (the ASGI app called
directly, production settings, no background jobs), trusted (by document id: compiled) and ad hoc (as text:
graphql-core) alternated for ``--rounds`` rounds of ``--requests`` pages; each round's CPU time per page
(``time.process_time``: the app, asyncpg's decoding, no HTTP server or client), PostgreSQL's CPU time per page
(its postmaster and backends) and the Python function calls per page (``cProfile``'s count: the same on any
machine, for comparing versions on a noisy one).

    .venv/bin/python -m bench.page --in-process [--small 10000] [--requests 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from api.services.seed import seed_demo
from bench.stack import (
    Stack,
    load,
    postgres_cpu_seconds,
    ratio_line,
    run_process,
    server_cpu_seconds,
    staff_token,
)
from persistence.db import create_engine, create_session_factory
from persistence.fast.sql import asyncpg_dsn
from persistence.principals import SYSTEM_AUDIT
from persistence.scale import seed_scale
from persistence.uow import SqlUnitOfWork

PAGE = """query Page($first: Int!, $filter: CaseFilter) { cases(first: $first, filter: $filter) { nodes {
  id state priority reportCount slaDueAt
  subject { __typename ... on Content { id title visibility } }
  account { id handle status }
  reports { id source policy { code } }
  strikes { id status }
  decision { id verdict actions { kind } }
} pageInfo { hasNextPage endCursor } } }"""

LIST = "query List($filter: CaseFilter) { cases(first: 100, filter: $filter) { nodes { id state priority } } }"

HAND_WRITTEN = """
SELECT c.id, c.state, c.priority, c.report_count, c.sla_due_at,
       ct.id AS content_id, ct.title, ct.visibility, a.id AS account_id, a.handle, a.status,
       (SELECT json_agg(json_build_object('id', r.id, 'source', r.source, 'code', p.code)
                        ORDER BY r.created_at, r.id)
          FROM (SELECT * FROM reports r WHERE r.case_id = c.id ORDER BY r.created_at, r.id LIMIT 100) r
          JOIN policies p ON p.id = r.policy_id) AS reports,
       (SELECT json_agg(json_build_object('id', s.id, 'status', s.status))
          FROM strikes s WHERE s.decision_id = c.decision_id) AS strikes,
       (SELECT json_build_object('id', d.id, 'verdict', d.verdict,
                                 'actions', (SELECT json_agg(e.kind) FROM enforcement_actions e
                                             WHERE e.decision_id = d.id))
          FROM decisions d WHERE d.id = c.decision_id) AS decision
FROM (SELECT * FROM cases ORDER BY created_at DESC, id DESC LIMIT 101) c
JOIN contents ct ON ct.id = c.subject_id
JOIN accounts a ON a.id = c.subject_account_id
ORDER BY c.created_at DESC, c.id DESC
"""


async def check_hand_written(url: str, first: int = 100) -> None:
    """The hand-written SQL must return the page it stands for (``first`` + 1 rows): its inner joins drop a case
    whose subject is not a stored content, and a page of such cases (the claim benchmarks' synthetic ones, say)
    would measure an empty statement against a real page."""
    import asyncpg

    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = len(await connection.fetch(HAND_WRITTEN))
    finally:
        await connection.close()
    if rows != first + 1:
        raise SystemExit(f"the hand-written page returned {rows} rows, not {first + 1}: its newest cases lack content")


async def tokens(url: str) -> dict[str, str]:
    engine = create_engine(url, pool_size=1)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            admin = await staff_token(uow, "admin", "*", "bench-admin")
            moderator = await staff_token(uow, "moderator", "US", "bench-moderator")
            await staff_token(uow, "moderator", "US", "bench-two-regions")
            two = await staff_token(uow, "moderator", "EU", "bench-two-regions")
    finally:
        await engine.dispose()
    return {"admin": admin, "moderator": moderator, "two_regions": two}


def rate(port: int, body: dict[str, Any], token: str, requests: int, clients: int) -> tuple[float, float]:
    return measure(None, port, body, token, requests, clients)[:2]


def measure(
    stack: Stack | None, port: int, body: dict[str, Any], token: str, requests: int, clients: int
) -> tuple[float, float, float, float]:
    """Rate, p50 (ms), and the server's and PostgreSQL's CPU per request (ms; 0 without ``stack``)."""
    load(port, [body] * 10, clients, {"Authorization": f"Bearer {token}"})  # warm the connections
    cpu = (server_cpu_seconds(stack), postgres_cpu_seconds(stack)) if stack is not None else (0.0, 0.0)
    result = load(port, [body] * requests, clients, {"Authorization": f"Bearer {token}"}, keep=1)
    if stack is not None:
        server_ms = 1000 * (server_cpu_seconds(stack) - cpu[0]) / requests
        postgres_ms = 1000 * (postgres_cpu_seconds(stack) - cpu[1]) / requests
    else:
        server_ms = postgres_ms = 0.0
    first = result["bodies"][0]
    if "errors" in first or result["statuses"] != {"200": requests}:
        raise SystemExit(f"the query failed: {str(first)[:500]} {result['statuses']}")
    return result["count"] / result["seconds"], result["p50_ms"], server_ms, postgres_ms


def listings(port: int, toks: dict[str, str], requests: int) -> dict[str, float]:
    """p50 latency (ms) of each listing, one client at a time (latency, not throughput, is what grows)."""
    queue = {"query": LIST, "variables": {"filter": {"states": ["OPEN"], "region": "US"}}}
    everything = {"query": LIST, "variables": {}}
    return {
        "moderator queue (US, OPEN)": rate(port, queue, toks["moderator"], requests, 1)[1],
        "all regions (admin)": rate(port, everything, toks["admin"], requests, 1)[1],
        "two regions (US+EU moderator)": rate(port, everything, toks["two_regions"], requests, 1)[1],
    }


async def _asgi_post(app: Any, body: bytes, token: str) -> tuple[int, bytes]:
    """One ``POST /graphql`` through the ASGI app itself (no server, no client library)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
        "client": ("127.0.0.1", 50000), "server": ("vigil.bench", 80),
        "headers": [(b"host", b"vigil.bench"), (b"content-type", b"application/json"),
                    (b"authorization", f"Bearer {token}".encode()), (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status: list[int] = []
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the request is whole: nothing more comes
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status[0], b"".join(chunks)


async def in_process(stack: Stack, token: str, requests: int, rounds: int) -> None:
    import cProfile
    import json
    import pstats
    import statistics
    import time

    from api.app import create_app
    from api.cli.documents import CONSOLE_DOCUMENTS
    from api.settings import Environment, Settings
    from domain.document import document_id

    text = (CONSOLE_DOCUMENTS / "CasesPage.graphql").read_text()
    variables = {"first": 100}
    bodies = {
        "trusted": json.dumps({"documentId": document_id(text), "variables": variables}).encode(),
        "ad hoc": json.dumps({"query": text, "variables": variables}).encode(),
    }
    settings = Settings(
        env=Environment.PRODUCTION, rate_limits=False, audit_seal_interval=0, dispatcher=False, run_bulk_jobs=False
    )
    app = create_app(settings, database_url=stack.url)
    async with app.router.lifespan_context(app):
        answers = set()
        for body in bodies.values():
            for _ in range(20):  # warm: plans, statements, caches
                status, answer = await _asgi_post(app, body, token)
                if status != 200 or b'"errors"' in answer:
                    raise SystemExit(f"the page failed: {status} {answer[:500]!r}")
            answers.add(answer)
        if len(answers) != 1:
            raise SystemExit("trusted and ad hoc answered different bytes")
        cpu: dict[str, list[float]] = {name: [] for name in bodies}
        database: dict[str, list[float]] = {name: [] for name in bodies}
        for _ in range(rounds):
            for name, body in bodies.items():
                start, postgres = time.process_time(), postgres_cpu_seconds(stack)
                for _ in range(requests):
                    await _asgi_post(app, body, token)
                cpu[name].append(1000 * (time.process_time() - start) / requests)
                database[name].append(1000 * (postgres_cpu_seconds(stack) - postgres) / requests)
        calls: dict[str, float] = {}
        for name, body in bodies.items():
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(20):
                await _asgi_post(app, body, token)
            profile.disable()
            calls[name] = pstats.Stats(profile).total_calls / 20  # type: ignore[attr-defined]
    for name, values in cpu.items():
        shown = " ".join(f"{v:.2f}" for v in values)
        print(f"CasesPage {name:<8} in-process CPU {statistics.median(values):6.2f} ms/page (median; rounds: {shown})"
              f"   {calls[name]:8,.0f} Python calls/page (cProfile)"
              f"   PostgreSQL {statistics.median(database[name]):5.2f} ms/page (median)")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--in-process", action="store_true", help="the page's CPU in this process (see above)")
    parser.add_argument("--rounds", type=int, default=5, help="with --in-process: rounds of --requests pages")
    args = parser.parse_args(argv)
    if args.in_process:
        from api.cli.documents import register_console_documents

        with Stack() as stack:
            asyncio.run(seed_demo(stack.url))
            asyncio.run(seed_scale(stack.url, args.small))
            toks = asyncio.run(tokens(stack.url))
            asyncio.run(register_console_documents(stack.url))
            asyncio.run(in_process(stack, toks["admin"], args.requests, args.rounds))
        return
    with Stack() as stack:
        asyncio.run(seed_demo(stack.url))
        asyncio.run(seed_scale(stack.url, args.small))
        toks = asyncio.run(tokens(stack.url))
        asyncio.run(check_hand_written(stack.url))
        page_body = {"query": PAGE, "variables": {"first": 100}}
        with stack.server() as port:
            api_rate, api_p50, cpu_ms, _ = measure(stack, port, page_body, toks["admin"], args.requests, 4)
            job = {"mode": "sql", "dsn": asyncpg_dsn(stack.url), "sql": HAND_WRITTEN, "count": args.requests,
                   "concurrency": 4}  # fmt: skip
            raw = run_process("bench.raw", job)
            raw_rate, raw_p50 = raw["count"] / raw["seconds"], raw["p50_ms"]
            print(ratio_line("cases(first: 100) page x4", api_rate, "hand-written SQL x4", raw_rate, "target >= 0.5"))
            print(f"{'':34} p50 {api_p50:7.1f} ms   {'hand-written SQL p50':<30} {raw_p50:7.1f} ms   "
                  f"p50 ratio {api_p50 / raw_p50:5.2f}  (target <= 2)")  # fmt: skip
            print(f"{'':34} server CPU {cpu_ms:.1f} ms per page  (target <= 25)")
            small = listings(port, toks, args.requests)
        print(f"growing to {args.large:,} cases ...", flush=True)
        asyncio.run(seed_scale(stack.url, args.large))
        with stack.server() as port:
            large = listings(port, toks, args.requests)
    for name, p50 in small.items():
        growth = large[name] / p50
        print(f"listing {name:<32} p50 {p50:6.1f} ms at {args.small:,}   {large[name]:6.1f} ms at {args.large:,}   "
              f"growth {growth:5.2f}  (target <= 1.5)")  # fmt: skip


if __name__ == "__main__":
    main()
