"""Report intake as one platform service's reports pile up, round after round, from the same reporter on fresh
subjects: trusted ``submitReport`` through the production server at 8 clients, and the very statements it sends
(``bench.statements``, captured from the app) replayed by a raw asyncpg client at 8; each round's rates and
PostgreSQL CPU a report, beside the first round's.

The hot pool plans each statement once for any values (``force_generic_plan``). A plan that weighed the reporter as
the average one read every earlier report of this one. On stop 31's code (stop 32, same day): the API fell 699 →
631 → 577 → 535 reports/s over four rounds, its PostgreSQL CPU 1.02 → 1.83 ms a report and climbing; the replay,
which connects anew each round and so plans on the statistics of the moment, fell 1,324 → 873 → 657/s, then
came back to 1,609/s when a new plan happened to take the right index. This code: flat (0.93–1.03 of round 1).
The last lines print the last round against the first (flat is 1).

    .venv/bin/python -m bench.intake_growth [--rounds 4] [--reports 3000]
"""

from __future__ import annotations

import argparse
import asyncio

from api.cli.documents import register_console_documents
from bench import ingest
from bench.stack import Stack, load, postgres_cpu_seconds, server_cpu_seconds
from bench.trusted import SUBMIT, body, replay, report_statements


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--reports", type=int, default=3000, help="reports per round")
    args = parser.parse_args(argv)
    n = args.reports
    with Stack() as stack:
        data = asyncio.run(ingest.prepare(stack.url, 2 * args.rounds * n + 120))
        subjects, policy = data["subjects"], data["policy"]
        data["spare"] = subjects[-10:]
        asyncio.run(register_console_documents(stack.url))
        template = report_statements(stack.url, data["token"], data)
        fresh = iter(subjects)
        headers = {"Authorization": f"Bearer {data['token']}"}
        firsts: dict[str, float] = {}
        last: dict[str, float] = {}

        def line(name: str, rate: float, postgres_ms: float, extra: str = "") -> None:
            first = firsts.setdefault(name, rate)
            last[name] = rate
            print(f"  {name:<20} {rate:7.1f} reports/s ({rate / first:4.2f}x round 1), PostgreSQL {postgres_ms:4.2f} "
                  f"ms a report{extra}", flush=True)  # fmt: skip

        with stack.server() as port:
            load(port, [body(SUBMIT, ingest.report_body(next(fresh), policy)["variables"], True) for _ in range(100)],
                 8, headers)  # fmt: skip
            for round_ in range(args.rounds):
                print(f"round {round_ + 1}: the reporter has {2 * round_ * n + 110:,} reports", flush=True)
                replayed = replay(stack, template, [next(fresh) for _ in range(n)])
                line("its statements x8", replayed.rate, replayed.postgres_ms)
                bodies = [body(SUBMIT, ingest.report_body(next(fresh), policy)["variables"], True) for _ in range(n)]
                cpu, postgres = server_cpu_seconds(stack), postgres_cpu_seconds(stack)
                result = load(port, bodies, 8, headers, keep=-1)
                failed = sum(1 for b in result["bodies"] if "SubmitReportSuccess" not in str(b))
                server_ms = 1000 * (server_cpu_seconds(stack) - cpu) / n
                postgres_ms = 1000 * (postgres_cpu_seconds(stack) - postgres) / n
                line("submitReport x8", result["count"] / result["seconds"], postgres_ms,
                     f", server CPU {server_ms:4.2f} ms; {failed} failed{ingest.failures(result)}")  # fmt: skip
        for name, rate in last.items():
            print(f"{name}: last round against the first {rate / firsts[name]:.2f} (flat is 1)")


if __name__ == "__main__":
    main()
