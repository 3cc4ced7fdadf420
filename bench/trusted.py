"""Trusted documents, compiled and not: the console page and report intake sent by document id (compiled plans)
beside the same text sent ad hoc (strawberry on graphql-core), against the production server, each beside its
hand-written baseline measured in the same run.

- page: the console's ``CasesPage`` (``cases(first: 100)`` with subject, account, reports, strikes, decision), 4
  clients: ad hoc and trusted alternated (twice each), beside the hand-written SQL of ``bench.page`` returning the
  same rows;
- intake: the console's ``SubmitReport`` at 8 clients, ad hoc and trusted alternated (twice each), each report on a
  fresh subject, beside raw single-row inserts (own transaction) into a table shaped like ``reports`` at 8 clients
  (``bench.ingest``);
- the page ad hoc and trusted again on a second server with ``VIGIL_COMPILED_EXECUTION=off`` (both on graphql-core):
  the machine's drift between servers shows in the ad hoc lines, so compare each server's trusted line with its own
  ad hoc line.

    .venv/bin/python -m bench.trusted [--requests 200] [--reports 1500] [--cases 10000]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from api.cli.documents import CONSOLE_DOCUMENTS, register_console_documents
from bench import ingest, page
from bench.stack import Stack, load, ratio_line, run_process, server_cpu_seconds
from domain.document import document_id
from persistence.fast.sql import asyncpg_dsn
from persistence.scale import seed_scale

PAGE = (CONSOLE_DOCUMENTS / "CasesPage.graphql").read_text()
SUBMIT = (CONSOLE_DOCUMENTS / "SubmitReport.graphql").read_text()


def _trusted(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {"documentId": document_id(text), "variables": body["variables"]}


def _page_line(name: str, rate: float, p50: float, cpu_ms: float, raw_p50: float) -> str:
    return (
        f"page {name:<29} {rate:7.1f}/s   p50 {p50:6.1f} ms ({p50 / raw_p50:5.2f}x hand-written SQL, target <= 2)"
        f"   server CPU {cpu_ms:5.1f} ms/page (target <= 6)"
    )


def _intake(stack: Stack, port: int, bodies: list[dict[str, Any]], token: str) -> tuple[float, float, str]:
    headers = {"Authorization": f"Bearer {token}"}
    cpu = server_cpu_seconds(stack)
    result = load(port, bodies, 8, headers, keep=1)
    cpu_ms = 1000 * (server_cpu_seconds(stack) - cpu) / len(bodies)
    first = result["bodies"][0]
    if "errors" in first or "Error" in str(first):
        raise SystemExit(f"the report failed: {str(first)[:500]}")
    return result["count"] / result["seconds"], cpu_ms, ingest.failures(result)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="pages per run")
    parser.add_argument("--reports", type=int, default=1500, help="reports per intake run")
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args(argv)
    with Stack() as stack:
        data = asyncio.run(ingest.prepare(stack.url, 4 * args.reports + 100))
        asyncio.run(seed_scale(stack.url, args.cases))
        toks = asyncio.run(page.tokens(stack.url))
        asyncio.run(register_console_documents(stack.url))
        adhoc_page = {"query": PAGE, "variables": {"first": 100}}
        trusted_page = _trusted(adhoc_page, PAGE)
        raw_job = {"mode": "sql", "dsn": asyncpg_dsn(stack.url), "sql": page.HAND_WRITTEN, "count": args.requests,
                   "concurrency": 4}  # fmt: skip
        lines: list[str] = []
        with stack.server() as port:
            raw = run_process("bench.raw", raw_job)
            raw_p50 = raw["p50_ms"]
            raw_rate = raw["count"] / raw["seconds"]
            lines.append(f"page {'hand-written SQL x4':<29} {raw_rate:7.1f}/s   p50 {raw_p50:6.1f} ms")
            for run in range(4):  # alternated, twice each
                name, body = (("ad hoc", adhoc_page), ("trusted, compiled", trusted_page))[run % 2]
                rate, p50, cpu_ms = page.measure(stack, port, body, toks["admin"], args.requests, 4)
                lines.append(_page_line(f"{name} x4 ({run // 2 + 1})", rate, p50, cpu_ms, raw_p50))
            subjects, policy = data["subjects"], data["policy"]
            raw_x8 = ingest.raw_rate(stack.url, policy, args.reports, 8)
            # alternated, twice each: the first runs also warm the server and PostgreSQL up
            for run in range(4):
                chunk = subjects[run * args.reports : (run + 1) * args.reports]
                trusted = run % 2 == 1
                bodies = [ingest.report_body(s, policy) for s in chunk]
                if trusted:
                    bodies = [_trusted(body, SUBMIT) for body in bodies]
                rate, cpu_ms, bad = _intake(stack, port, bodies, data["token"])
                name = f"{'trusted' if trusted else 'ad hoc'} submitReport x8 ({run // 2 + 1})"
                note = f"target >= 0.5; server CPU {cpu_ms:.2f} ms/report{bad}"
                lines.append(ratio_line(name, rate, "raw insert x8", raw_x8, note))
        with stack.server(VIGIL_COMPILED_EXECUTION="off") as port:  # the same pair, neither compiled
            for run in range(2):
                name, body = (("ad hoc", adhoc_page), ("trusted, not compiled", trusted_page))[run]
                rate, p50, cpu_ms = page.measure(stack, port, body, toks["admin"], args.requests, 4)
                lines.append(_page_line(f"{name} x4 (off)", rate, p50, cpu_ms, raw_p50))
    for line in lines:
        print(line, flush=True)


if __name__ == "__main__":
    main()
