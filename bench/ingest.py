"""Report intake over HTTP against the production server, each figure beside raw asyncpg in the same run.

- ``submitReport`` at 1, 8 and 32 concurrent clients, each report on a random subject of a pool (most open a
  case, some fold into one), against single-row INSERTs (own transaction) into a table shaped and indexed like
  ``reports``, at the same concurrency;
- ``submitReports`` in batches of 100 at 8 clients on random subjects (overlapping batches: locks must be taken
  in a stable order), against the same raw single-row rate at 8 clients;
- brigade: 64 simultaneous first reports on one subject: one case, ``reportCount`` 64, no error to any client;
- the floor: ``{ __typename }`` at 8 clients against the same raw rate: what a request costs before it does
  anything (HTTP, the app, strawberry, graphql-core), the ceiling of any mutation's ratio;
- the outbox: ``submitReport`` at 8 clients with the dispatcher off, then on (delivering every event to a webhook
  receiver in this process), on a server each, same run: intake must not slow down because of the dispatcher.

    .venv/bin/python -m bench.ingest [--reports 2000] [--subjects 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa

from api.graphql.ids import to_global_id
from api.services.seed import seed_demo
from bench.stack import Stack, load, platform_token, ratio_line, run_process, server_cpu_seconds
from domain.account import Account, AccountKind
from domain.content import Content, ContentKind
from domain.outbox.events import EVENT_TYPES
from domain.outbox.webhook import WebhookEndpoint
from domain.region import Region
from persistence.db import create_engine, create_session_factory
from persistence.fast.sql import asyncpg_dsn
from persistence.principals import SYSTEM_AUDIT
from persistence.repositories import ACCOUNTS, CONTENTS, WEBHOOK_ENDPOINTS
from persistence.uow import SqlUnitOfWork

SUBMIT = """mutation($input: SubmitReportInput!) { submitReport(input: $input) {
  __typename ... on SubmitReportSuccess { report { id status } } ... on Error { code message } } }"""
SUBMIT_MANY = """mutation($input: SubmitReportsInput!) { submitReports(input: $input) {
  __typename ... on SubmitReportsSuccess { results { __typename ... on SubmitReportSuccess { report { id } }
  ... on Error { code message } } } ... on Error { code message } } }"""
CASE = """query($id: ID!) { node(id: $id) { ... on Content { id } } }"""


async def prepare(url: str, subjects: int) -> dict[str, Any]:
    """Demo data (policies, queues), ``subjects`` pieces of content, a platform token and the raw table."""
    await seed_demo(url)
    engine = create_engine(url, pool_size=1)
    now = datetime.now(UTC)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            session = uow.session
            owner = Account(region=Region.US, external_id="bench-owner", kind=AccountKind.USER, handle="bench",
                            display_name="bench", created_at=now, updated_at=now)  # fmt: skip
            await session.execute(sa.insert(ACCOUNTS.table), [ACCOUNTS.to_row(owner)])
            ids = [uuid.uuid4() for _ in range(subjects + 1)]
            rows = [
                CONTENTS.to_row(Content(id=i, region=Region.US, owner_account_id=owner.id, external_id=f"bench-{n}",
                                        kind=ContentKind.POST, reach=n % 50_000, created_at=now, updated_at=now))
                for n, i in enumerate(ids)
            ]  # fmt: skip
            for start in range(0, len(rows), 2000):
                await session.execute(sa.insert(CONTENTS.table), rows[start : start + 2000])
            policy = (
                await session.execute(
                    sa.text("SELECT id FROM policies WHERE surface = 'CONTENT' ORDER BY code LIMIT 1")
                )
            ).scalar_one()
            token = await platform_token(uow)
            await session.execute(sa.text("CREATE TABLE bench_reports (LIKE reports INCLUDING ALL)"))
    finally:
        await engine.dispose()
    return {"subjects": ids[1:], "brigade_subject": ids[0], "policy": policy, "token": token}


def report_body(subject: uuid.UUID, policy: uuid.UUID) -> dict[str, Any]:
    return {"query": SUBMIT, "variables": {"input": {
        "subjectId": to_global_id("Content", subject), "policyId": to_global_id("Policy", policy), "source": "USER",
        "idempotencyKey": uuid.uuid4().hex}}}  # fmt: skip


def raw_row(policy: uuid.UUID) -> dict[str, Any]:
    return {
        "id": "$uuid", "region": "US", "subject_kind": "CONTENT", "subject_id": "$uuid", "source": "USER",
        "reporter_id": "raw", "reporter_kind": "TOKEN", "policy_id": f"uuid:{policy}", "text": None,
        "idempotency_key": "$key", "case_id": "$uuid", "created_at": "$now", "updated_at": "$now", "version": 1,
    }  # fmt: skip


def raw_rate(url: str, policy: uuid.UUID, count: int, concurrency: int) -> float:
    job = {"mode": "insert", "dsn": asyncpg_dsn(url), "table": "bench_reports", "row": raw_row(policy),
           "count": count, "concurrency": concurrency}  # fmt: skip
    result = run_process("bench.raw", job)
    return float(result["count"] / result["seconds"])


def floor_line(stack: Stack, port: int, headers: dict[str, str], n: int, raw_x8: float) -> str:
    """``{ __typename }`` at 8 clients beside the raw insert rate at 8: the ratio no request can pass."""
    cpu = server_cpu_seconds(stack)
    result = load(port, [{"query": "{ __typename }"}] * n, 8, headers, keep=0)
    cpu_ms = 1000 * (server_cpu_seconds(stack) - cpu) / n
    rate = result["count"] / result["seconds"]
    note = f"the floor of any request: server CPU {cpu_ms:.2f} ms/request{failures(result)}"
    return ratio_line("{ __typename } x8 clients", rate, "raw insert x8", raw_x8, note)


def failures(result: dict[str, Any]) -> str:
    bad = {k: v for k, v in result["statuses"].items() if k != "200"}
    return f" HTTP {bad}" if bad else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=2000, help="reports per submitReport run")
    parser.add_argument("--subjects", type=int, default=20000)
    args = parser.parse_args(argv)
    rng = random.Random(7)
    lines: list[str] = []
    with Stack() as stack:
        data = asyncio.run(prepare(stack.url, args.subjects))
        policy, subjects = data["policy"], data["subjects"]
        headers = {"Authorization": f"Bearer {data['token']}"}
        with stack.server() as port:
            load(port, [report_body(s, policy) for s in rng.sample(subjects, 200)], 8, headers)  # warm-up
            for clients in (1, 8, 32):
                n = args.reports if clients > 1 else args.reports // 4
                bodies = [report_body(rng.choice(subjects), policy) for _ in range(n)]
                cpu = server_cpu_seconds(stack)
                result = load(port, bodies, clients, headers, keep=-1)
                cpu_ms = 1000 * (server_cpu_seconds(stack) - cpu) / n
                errors = sum(
                    1 for b in result["bodies"] if b["data"]["submitReport"]["__typename"] != "SubmitReportSuccess"
                )
                rate = result["count"] / result["seconds"]
                base = raw_rate(stack.url, policy, n, clients)
                note = f"target >= 0.5 at 8; server CPU {cpu_ms:.1f} ms/report; {errors} errors{failures(result)}"
                lines.append(ratio_line(f"submitReport x{clients} clients", rate, f"raw insert x{clients}", base, note))
                print(lines[-1], flush=True)
                if clients == 8:
                    lines.append(floor_line(stack, port, headers, args.reports, base))
                    print(lines[-1], flush=True)
            batches = max(8, args.reports // 100)
            bodies = [{"query": SUBMIT_MANY, "variables": {"input": {"reports": [
                report_body(rng.choice(subjects), policy)["variables"]["input"] for _ in range(100)]}}}
                for _ in range(batches)]  # fmt: skip
            result = load(port, bodies, 8, headers, keep=-1)
            failed_items = 0
            for body in result["bodies"]:
                payload = (body.get("data") or {}).get("submitReports")
                if payload is None or payload["__typename"] != "SubmitReportsSuccess":
                    failed_items += 100
                    continue
                failed_items += sum(1 for r in payload["results"] if r["__typename"] != "SubmitReportSuccess")
            rate = 100 * result["count"] / result["seconds"]
            base = raw_rate(stack.url, policy, args.reports, 8)
            lines.append(ratio_line("submitReports(100) x8 clients", rate, "raw insert x8", base,
                                    f"target >= 2; {failed_items} failed items{failures(result)}"))  # fmt: skip
            print(lines[-1], flush=True)
            brigade = data["brigade_subject"]
            result = load(port, [report_body(brigade, policy) for _ in range(64)], 64, headers, keep=-1)
            errors = sum(
                1 for b in result["bodies"] if b["data"]["submitReport"]["__typename"] != "SubmitReportSuccess"
            )
        cases = asyncio.run(_brigade_cases(stack.url, brigade))
        lines.append(
            f"brigade: 64 concurrent first reports on one subject: {errors} errors{failures(result)}, "
            f"cases (state, reportCount) {cases}  (target: one case, reportCount 64, 0 errors)"
        )
        print(lines[-1], flush=True)
        lines.append(dispatcher_on_vs_off(stack, data, rng, args.reports, headers))
        print(lines[-1], flush=True)


def dispatcher_on_vs_off(
    stack: Stack, data: dict[str, Any], rng: random.Random, n: int, headers: dict[str, str]
) -> str:
    """submitReport x8 on a server without its dispatcher, then on one whose dispatcher delivers every event."""
    counts = {"off": 0.0, "on": 0.0}
    seconds = {"off": 0.0, "on": 0.0}
    workers = str(os.cpu_count() or 1)
    with receiving() as (url, received):
        asyncio.run(_register_webhook(stack.url, url))
        for mode in ("off", "on", "off", "on"):  # alternated: the growing tables weigh on both alike
            # Development mode on both legs: production refuses to deliver to a loopback receiver (webhook
            # addresses must be public there); the worker count is pinned to production's.
            with stack.server(VIGIL_DISPATCHER=mode, VIGIL_ENV="development", VIGIL_WORKERS=workers) as port:
                warm = [report_body(s, data["policy"]) for s in rng.sample(data["subjects"], 100)]
                load(port, warm, 8, headers)
                bodies = [report_body(rng.choice(data["subjects"]), data["policy"]) for _ in range(n // 2)]
                result = load(port, bodies, 8, headers)
                counts[mode] += result["count"]
                seconds[mode] += result["seconds"]
            if mode == "off":  # its events are not the next round's work: the "on" rounds carry their own only
                asyncio.run(_skip_backlog(stack.url))
        delivered = len(received)
    rates = {mode: counts[mode] / seconds[mode] for mode in counts}
    note = f"target >= 0.95; {delivered} webhook deliveries received while on"
    return ratio_line("submitReport x8, dispatcher on", rates["on"], "dispatcher off", rates["off"], note)


@contextlib.contextmanager
def receiving() -> Iterator[tuple[str, list[str]]]:
    """A webhook receiver on 127.0.0.1 answering 204 to everything, counting deliveries."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver: not a new connection per delivery

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            received.append(self.headers.get("webhook-id", ""))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # the default 5 drops connections a dispatcher opens at once

        def handle_error(self, request: object, client_address: object) -> None:
            return None  # a server under test stopping resets its kept-alive connections: not news

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/vigil", received
    finally:
        server.shutdown()
        server.server_close()


async def _skip_backlog(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("UPDATE outbox_events SET dispatched_at = now() WHERE dispatched_at IS NULL"))
    finally:
        await engine.dispose()


async def _register_webhook(url: str, target: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            endpoint = WebhookEndpoint.register(owner_id="partner:bench", url=target, event_types=tuple(EVENT_TYPES),
                                                regions=(Region.US,), description="", now=datetime.now(UTC),
                                                require_https=False)  # fmt: skip
            await session.execute(sa.insert(WEBHOOK_ENDPOINTS.table), [WEBHOOK_ENDPOINTS.to_row(endpoint)])
    finally:
        await engine.dispose()


async def _brigade_cases(url: str, subject: uuid.UUID) -> list[tuple[str, int]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT state, report_count FROM cases WHERE subject_id = :s"), {"s": subject}
            )
            return [(r[0], int(r[1])) for r in rows]
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
