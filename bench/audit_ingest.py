"""What sealing the audit trail costs report ingest.

Writers commit "report-sized" transactions (3 audit events each: the report, its case, the case's counters; the
shape of one `submitReport`) from concurrent workers, first with sealing off, then with the app's background
sealer running, then off again (to control for table growth). Only audit rows are written, so the ratio is a
worst case: real ingest also writes the domain rows, which sealing does not touch.

    .venv/bin/python -m bench.audit_ingest [--reports 4000] [--workers 16] [--interval 2.0]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from persistence import migrate
from persistence.audit import AuditRecord, AuditSealer, seal_all, verify, write_events
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.embedded import start_embedded


def report_events(n: int) -> list[AuditRecord]:
    now = datetime.now(UTC)
    case_id = str(uuid.uuid4())
    common = {"occurred_at": now, "actor_kind": "PARTNER", "actor_id": "token:bench", "region": "US"}
    return [
        AuditRecord(
            **common,  # type: ignore[arg-type]
            action="submitReport",
            subject_kind="Report",
            subject_id=str(uuid.uuid4()),
            request_id=f"bench-{n}",
            after={"policy": "SPAM", "source": "USER", "text": "spam spam spam", "case_id": case_id},
        ),
        AuditRecord(
            **common,  # type: ignore[arg-type]
            action="submitReport",
            subject_kind="Case",
            subject_id=case_id,
            request_id=f"bench-{n}",
            after={"state": "OPEN", "priority": 40, "report_count": 1},
        ),
        AuditRecord(
            **common,  # type: ignore[arg-type]
            action="submitReport",
            subject_kind="Case",
            subject_id=case_id,
            request_id=f"bench-{n}",
            before={"report_count": 1, "priority": 40},
            after={"report_count": 2, "priority": 41},
        ),
    ]


async def ingest(sessions: SessionFactory, reports: int, workers: int) -> float:
    """Reports per second."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(reports):
        queue.put_nowait(n)

    async def worker() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            async with sessions() as session, session.begin():
                await write_events(session, report_events(n))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return reports / (time.perf_counter() - started)


async def run(url: str, reports: int, workers: int, interval: float) -> None:
    engine = create_engine(url, pool_size=workers + 2)
    sessions = create_session_factory(engine)
    try:
        await ingest(sessions, 300, workers)  # warm-up: connections, plans
        await seal_all(sessions)
        off_1 = await ingest(sessions, reports, workers)
        await seal_all(sessions)

        sealer = AuditSealer(sessions, interval=interval)
        sealer.start()
        on = await ingest(sessions, reports, workers)
        await sealer.stop()
        sealed_live = sealer.sealed
        await seal_all(sessions)

        off_2 = await ingest(sessions, reports, workers)
        await seal_all(sessions)
        async with sessions() as session:
            started = time.perf_counter()
            result = await verify(session)
            verify_s = time.perf_counter() - started
            total = (await session.execute(sa.text("SELECT count(*) FROM audit_events"))).scalar_one()
    finally:
        await engine.dispose()

    off = statistics.mean([off_1, off_2])
    print(f"reports per run: {reports} ({3 * reports} audit events), {workers} concurrent writers")
    print(f"sealing off:            {off_1:8.0f} reports/s, {off_2:8.0f} reports/s (mean {off:.0f})")
    print(
        f"sealer every {interval:g} s:    {on:8.0f} reports/s ({sealer.passes} passes sealed {sealed_live} events live)"
    )
    print(f"ratio on/off:           {on / off:8.3f}  (sealing costs {100 * (1 - on / off):.1f}% of ingest rate)")
    print(f"verify: {result.events_checked} of {total} events in {verify_s:.2f} s, ok={result.ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--interval", type=float, default=2.0, help="sealer interval in seconds (app default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        server = start_embedded(Path(tmp) / "pg", throwaway=True)
        try:
            server.ensure_database("bench")
            url = server.url("bench")
            migrate.upgrade(url)
            asyncio.run(run(url, args.reports, args.workers, args.interval))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
