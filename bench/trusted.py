"""Trusted documents, compiled and not: the console's operations sent by document id (their own route, compiled
plans) beside the same text sent ad hoc (strawberry's view, graphql-core), against the production server, each
pair beside its hand-written or raw baseline measured in the same run. Ad hoc and trusted alternate (the page and
single reports twice each), so the machine's drift weighs on both alike.

- page: the console's ``CasesPage`` (``cases(first: 100)`` with subject, account, reports, strikes, decision) at 4
  clients, beside the hand-written SQL of ``bench.page`` returning the same rows (p50 and server CPU per page);
- the floor: ``{ __typename }`` at 8 clients, beside the raw single-row insert at 8 (``bench.ingest``; its rate moves
  with its commits' flushes, so it is sampled just before and just after every intake leg, and each intake ratio is
  against the median of the run's samples);
- ``submitReport`` at 8 clients, each report on a fresh subject, beside the raw single-row insert at 8 and beside a
  raw asyncpg client sending the very statements the API sends for a report (``bench.statements``, captured from
  the app with the pools' query observer): the API's own overhead apart from the database's; and the ceiling that
  leaves the raw-insert target out of reach on this machine: the rate if the API's own work for a report cost
  nothing (an empty request's server CPU plus the replayed statements' client and PostgreSQL CPU, on every core);
- ``submitReports`` of 100 reports at 8 clients (reports per second), beside the raw single-row insert at 8: 48
  requests a run, six a client (until stop 32, one request per 100 single reports: 15 at the default, two a client,
  so a run was mostly its ramp and its tail);
- ``claimNextCase`` at 32 claimers draining one queue, beside raw ``SKIP LOCKED`` (``bench.claims``), and its
  ceiling: the rate if the server's work for a claim cost no more than an empty request;
- the page again on a second server with ``VIGIL_COMPILED_EXECUTION=off``: the trusted route on graphql-core (run
  before the others, on the same cases: intake adds newer ones; printed last).

Every page lists the same 100 cases as the hand-written SQL (``page.check_hand_written``: the claim queues' cases,
which have no stored subject, are older).

    .venv/bin/python -m bench.trusted [--requests 200] [--reports 1500] [--cases 10000] [--claims 2000] [--batches 48]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import pickle
import statistics
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.cli.documents import CONSOLE_DOCUMENTS, register_console_documents
from api.graphql.ids import to_global_id
from bench import claims, ingest, page, statements
from bench.stack import Stack, load, postgres_cpu_seconds, ratio_line, run_process, server_cpu_seconds, settle
from domain.document import document_id
from persistence.fast.sql import asyncpg_dsn
from persistence.scale import seed_scale

PAGE = (CONSOLE_DOCUMENTS / "CasesPage.graphql").read_text()
SUBMIT = (CONSOLE_DOCUMENTS / "SubmitReport.graphql").read_text()
SUBMIT_MANY = (CONSOLE_DOCUMENTS / "SubmitReports.graphql").read_text()
CLAIM = (CONSOLE_DOCUMENTS / "ClaimNextCase.graphql").read_text()
TYPENAME = (CONSOLE_DOCUMENTS / "Typename.graphql").read_text()
BATCH = 100


def body(text: str, variables: dict[str, Any], trusted: bool) -> dict[str, Any]:
    if trusted:
        return {"documentId": document_id(text), "variables": variables}
    return {"query": text, "variables": variables}


def kind(trusted: bool) -> str:
    return "trusted" if trusted else "ad hoc"


def _page_line(name: str, measured: tuple[float, float, float, float], raw_p50: float) -> str:
    rate, p50, cpu_ms, postgres_ms = measured
    return (
        f"page {name:<29} {rate:7.1f}/s   p50 {p50:6.1f} ms ({p50 / raw_p50:5.2f}x hand-written SQL, target <= 2)"
        f"   server CPU {cpu_ms:5.1f} ms/page (target <= 6), PostgreSQL {postgres_ms:4.2f}"
    )


def _measured(stack: Stack, port: int, bodies: list[dict[str, Any]], clients: int, token: str) -> dict[str, Any]:
    settle(stack)  # the events of the legs before dispatched: each leg pays for its own
    cpu, postgres = server_cpu_seconds(stack), postgres_cpu_seconds(stack)
    result = load(port, bodies, clients, {"Authorization": f"Bearer {token}"}, keep=-1)
    result["cpu_ms"] = 1000 * (server_cpu_seconds(stack) - cpu) / len(bodies)
    result["postgres_ms"] = 1000 * (postgres_cpu_seconds(stack) - postgres) / len(bodies)
    result["rate"] = result["count"] / result["seconds"]
    return dict(result)


def _failed(result: dict[str, Any], field: str, success: str) -> int:
    return sum(1 for b in result["bodies"] if ((b.get("data") or {}).get(field) or {}).get("__typename") != success)


def _failed_items(answer: dict[str, Any]) -> int:
    payload = (answer.get("data") or {}).get("submitReports")
    if payload is None or payload.get("__typename") != "SubmitReportsSuccess":
        return BATCH
    return sum(1 for r in payload["results"] if r.get("__typename") != "SubmitReportSuccess")


def report_statements(url: str, token: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a trusted ``submitReport`` sends to PostgreSQL, as a replayable template (``bench.statements``)."""
    subjects, policy = data["spare"], data["policy"]
    bodies = [ingest.report_body(s, policy) for s in subjects]
    trusted = [body(SUBMIT, b["variables"], True) for b in bodies]
    captured = asyncio.run(statements.capture(url, token, trusted[3:], trusted[:3]))
    first = statements.pair(captured)
    key = bodies[3 + first]["variables"]["input"]["idempotencyKey"]
    return statements.template(captured[first], captured[first + 1], subjects[3 + first], key)


@dataclass(frozen=True)
class Replayed:
    """A replay of a report's statements (``bench.statements``): reports a second, and the CPU a report took in the
    replaying client and in PostgreSQL (ms)."""

    rate: float
    client_ms: float
    postgres_ms: float


def replay(stack: Stack, template: dict[str, Any], subjects: list[Any]) -> Replayed:
    job = {**template, "dsn": asyncpg_dsn(stack.url), "subjects": subjects, "count": len(subjects), "concurrency": 8}
    with tempfile.NamedTemporaryFile("wb", suffix=".pickle", delete=False) as handle:
        pickle.dump(job, handle)
    postgres = postgres_cpu_seconds(stack)
    try:
        result = run_process("bench.statements", {"pickle": handle.name})
    finally:
        os.unlink(handle.name)
    count = result["count"]
    postgres_ms = 1000 * (postgres_cpu_seconds(stack) - postgres) / count
    return Replayed(count / result["seconds"], 1000 * result["cpu_seconds"] / count, postgres_ms)


def _as_is(line: str, _: float) -> str:
    return line


def ceiling_line(floor: dict[str, Any], replayed: Replayed, raw_x8: float) -> str:
    """The most ``submitReport`` could reach on this machine if the API's own work for a report (its GraphQL
    operation, the domain command, the unit of work) cost nothing: every core busy, and each report paying only an
    empty request's server CPU (the floor) plus its statements' CPU in a client and in PostgreSQL (the replay).
    Generous: it leaves out the load generator's CPU and the server's extra PostgreSQL time (its pools, the
    dispatcher)."""
    cores = os.cpu_count() or 1
    per_report_ms = floor["cpu_ms"] + replayed.client_ms + replayed.postgres_ms
    ceiling = 1000 * cores / per_report_ms
    note = (f"if the API's own work cost nothing: {cores} cores / ({floor['cpu_ms']:.2f} ms empty request + "
            f"{replayed.client_ms:.2f} client + {replayed.postgres_ms:.2f} PostgreSQL a report)")  # fmt: skip
    return ratio_line("submitReport ceiling", ceiling, "raw insert x8", raw_x8, note)


def claim_ceiling_line(floor: dict[str, Any], drain: dict[str, Any], raw_claims: float) -> str:
    """The most ``claimNextCase`` could reach on this machine if the server's work for a claim cost no more than an
    empty request: every core busy, each claim paying the floor's server CPU plus the PostgreSQL CPU the trusted
    drain measured a claim (its four round trips, its audit event, its outbox event and that event's delivery)."""
    cores = os.cpu_count() or 1
    ceiling = 1000 * cores / (floor["cpu_ms"] + drain["postgres_ms"])
    note = (f"if the server's own work cost nothing: {cores} cores / ({floor['cpu_ms']:.2f} ms empty request + "
            f"{drain['postgres_ms']:.2f} PostgreSQL a claim)")  # fmt: skip
    return ratio_line("claimNextCase ceiling", ceiling, "raw SKIP LOCKED x32", raw_claims, note)


def claim_drain(
    stack: Stack, port: int, queue: Any, token: str, n: int, trusted: bool
) -> tuple[dict[str, Any], Counter[str]]:
    bodies = [body(CLAIM, {"queueId": to_global_id("Queue", queue)}, trusted) for _ in range(n)]
    result = _measured(stack, port, bodies, 32, token)
    claimed: Counter[str] = Counter()
    for answer in result["bodies"]:
        claim = answer["data"]["claimNextCase"]
        if claim["__typename"] != "ClaimNextCaseSuccess" or claim["case"] is None:
            raise SystemExit(f"claim failed: {claim}")
        claimed[claims.raw(claim["case"]["id"])] += 1
    return result, claimed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="pages per run")
    parser.add_argument("--reports", type=int, default=1500, help="reports per intake run")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=2000, help="claims per drain")
    parser.add_argument("--batches", type=int, default=48, help="submitReports requests per run (100 reports each)")
    args = parser.parse_args(argv)
    n = args.reports
    batches = max(8, args.batches)
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    with Stack() as stack:
        data = asyncio.run(ingest.prepare(stack.url, 6 * n + 2 * (batches + 8) * BATCH + 200))
        subjects, policy = data["subjects"], data["policy"]
        data["spare"] = subjects[-10:]
        asyncio.run(seed_scale(stack.url, args.cases))
        toks = asyncio.run(page.tokens(stack.url))
        asyncio.run(register_console_documents(stack.url))
        (claim_queue, raw_queue, warm_queue), claimers = asyncio.run(
            claims.seed(stack.url, args.claims, 1, warm_up=claims.WARM_UP)
        )
        template = report_statements(stack.url, data["token"], data)
        asyncio.run(page.check_hand_written(stack.url))  # the page's cases, not the claim queues' (older)
        raw_job = {"mode": "sql", "dsn": asyncpg_dsn(stack.url), "sql": page.HAND_WRITTEN, "count": args.requests,
                   "concurrency": 4}  # fmt: skip
        postgres = postgres_cpu_seconds(stack)
        raw = run_process("bench.raw", raw_job)
        raw_postgres_ms = 1000 * (postgres_cpu_seconds(stack) - postgres) / raw["count"]
        raw_p50 = raw["p50_ms"]
        say(f"page {'hand-written SQL x4':<29} {raw['count'] / raw['seconds']:7.1f}/s   p50 {raw_p50:6.1f} ms"
            f"{'':52}PostgreSQL {raw_postgres_ms:4.2f} ms/page")  # fmt: skip
        not_compiled = []
        with stack.server(VIGIL_COMPILED_EXECUTION="off") as port:  # the trusted route on graphql-core, first:
            for trusted in (False, True):  # the same cases as the compiled pages (intake adds newer ones later)
                page_body = body(PAGE, {"first": 100}, trusted)
                measured = page.measure(stack, port, page_body, toks["admin"], args.requests, 4)
                not_compiled.append(_page_line(f"{kind(trusted)} x4 (not compiled)", measured, raw_p50))
        # One server for everything: the claimers share one moderator token, which the staff rate limit (200/s
        # per worker) would refuse most of a fast drain; it is not what this measures.
        with stack.server(VIGIL_RATE_LIMIT_STAFF="1000000/1000000") as port:
            for run in range(4):  # alternated, twice each
                trusted = run % 2 == 1
                page_body = body(PAGE, {"first": 100}, trusted)
                measured = page.measure(stack, port, page_body, toks["admin"], args.requests, 4)
                say(_page_line(f"{kind(trusted)} x4 ({run // 2 + 1})", measured, raw_p50))

            # The raw insert's rate moves with its commits' flushes, second to second on a shared machine (866-3,808/s
            # within one run): it is sampled just before and just after each intake leg, and every intake ratio is
            # against the median of all its samples, printed once they are all in.
            raws: list[float] = []
            lines_against: list[Callable[[float], str]] = []

            def against_raw(name: str, rate: float, note: str) -> None:
                """A ratio line against the raw insert, printed once the median is known."""
                lines_against.append(functools.partial(ratio_line, name, rate, "raw insert x8", target=note))

            def beside(bodies: list[dict[str, Any]]) -> dict[str, Any]:
                raws.append(ingest.raw_rate(stack.url, policy, n, 8))
                result = _measured(stack, port, bodies, 8, data["token"])
                raws.append(ingest.raw_rate(stack.url, policy, n, 8))
                return result

            for trusted in (False, True):
                floor = beside([body(TYPENAME, {}, trusted)] * n)
                note = f"the floor of any request; server CPU {floor['cpu_ms']:.2f} ms/request{ingest.failures(floor)}"
                against_raw(f"{{ __typename }} {kind(trusted)} x8", floor["rate"], note)

            fresh = iter(subjects)
            replayed = replay(stack, template, [next(fresh) for _ in range(n)])
            lines_against.append(functools.partial(ceiling_line, floor, replayed))
            ingest_warm = [body(SUBMIT, ingest.report_body(next(fresh), policy)["variables"], True) for _ in range(100)]
            load(port, ingest_warm, 8, {"Authorization": f"Bearer {data['token']}"})
            for run in range(4):  # alternated, twice each
                trusted = run % 2 == 1
                bodies = [body(SUBMIT, ingest.report_body(next(fresh), policy)["variables"], trusted) for _ in range(n)]
                result = beside(bodies)
                failed = _failed(result, "submitReport", "SubmitReportSuccess")
                name = f"submitReport {kind(trusted)} x8 ({run // 2 + 1})"
                note = (f"target >= 0.3; server CPU {result['cpu_ms']:.2f} ms/report, PostgreSQL "
                        f"{result['postgres_ms']:.2f}; {failed} failed{ingest.failures(result)}")  # fmt: skip
                against_raw(name, result["rate"], note)
                statements = ratio_line("", result["rate"], "its statements, raw x8", replayed.rate, "target >= 0.5")
                lines_against.append(functools.partial(_as_is, statements))

            def batch_body(trusted: bool) -> dict[str, Any]:
                reports = [ingest.report_body(next(fresh), policy)["variables"]["input"] for _ in range(BATCH)]
                return body(SUBMIT_MANY, {"input": {"reports": reports}}, trusted)

            for trusted in (False, True):  # warm: each connection's statements for a batch, the plans
                load(port, [batch_body(trusted) for _ in range(8)], 8, {"Authorization": f"Bearer {data['token']}"})
            for trusted in (False, True):
                result = beside([batch_body(trusted) for _ in range(batches)])
                failed = sum(_failed_items(b) for b in result["bodies"])
                server, postgres = result["cpu_ms"] / BATCH, result["postgres_ms"] / BATCH
                cpu = f"server CPU {server:.3f} ms/report, PostgreSQL {postgres:.3f}"
                note = f"target >= 1.0; {cpu}; {failed} failed items{ingest.failures(result)}"
                against_raw(f"submitReports({BATCH}) {kind(trusted)} x8", BATCH * result["rate"], note)
            raw_x8 = statistics.median(raws)
            say(f"raw insert x8, sampled {len(raws)} times beside the intake legs: median {raw_x8:.0f}/s "
                f"({min(raws):.0f}-{max(raws):.0f}); the ratios below are against the median")  # fmt: skip
            for render in lines_against:
                say(render(raw_x8))

            moderator = claimers[0]
            warm = [body(CLAIM, {"queueId": to_global_id("Queue", warm_queue)}, True)] * claims.WARM_UP
            load(port, warm, 32, {"Authorization": f"Bearer {moderator}"})
            half = args.claims // 2
            adhoc, adhoc_claimed = claim_drain(stack, port, claim_queue, moderator, half, False)
            trusted_drain, trusted_claimed = claim_drain(stack, port, claim_queue, moderator, args.claims - half, True)
            claims._check("api", adhoc_claimed + trusted_claimed, args.claims)
        postgres = postgres_cpu_seconds(stack)
        raw_claims = args.claims / claims.raw_drain(stack, raw_queue, args.claims, 32)
        raw_postgres_ms = 1000 * (postgres_cpu_seconds(stack) - postgres) / args.claims
        for name, drain in (("ad hoc", adhoc), ("trusted", trusted_drain)):
            note = (f"target >= 0.6; server CPU {drain['cpu_ms']:.2f} ms/claim, PostgreSQL {drain['postgres_ms']:.2f} "
                    f"(raw: {raw_postgres_ms:.2f})")  # fmt: skip
            say(ratio_line(f"claimNextCase {name} x32", drain["rate"], "raw SKIP LOCKED x32", raw_claims, note))
        say(claim_ceiling_line(floor, trusted_drain, raw_claims))

        for line in not_compiled:
            say(line)
    print("\nin one run, side by side:")
    for line in lines:
        print(line, flush=True)


if __name__ == "__main__":
    main()
