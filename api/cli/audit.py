"""`vigil audit`: verify the hash-chained audit trail, export it as JSON lines."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import IO, Any

import typer
from rich.console import Console

from api.bootstrap import resolve_database
from api.cli.export import Output, ShowProgress, Since, Until, export_rows, run_export
from api.settings import Settings

audit_app = typer.Typer(help="The audit trail: verify the hash chain, export events.", no_args_is_help=True)
console = Console(stderr=True)


@audit_app.command("verify")
def verify_command() -> None:
    """Seal what is pending, then verify the whole trail; exit 1 naming the first broken event."""
    from persistence import audit
    from persistence.db import create_engine, create_session_factory

    async def run() -> tuple[int, audit.VerifyResult]:
        engine = create_engine(database.url, pool_size=1)
        try:
            sessions = create_session_factory(engine)
            sealed = await audit.seal_all(sessions, lookback=None)
            async with sessions() as session:
                return sealed, await audit.verify(session)
        finally:
            await engine.dispose()

    database = resolve_database(Settings())
    try:
        with console.status("Verifying the audit trail"):
            sealed, result = asyncio.run(run())
    finally:
        database.close()
    console.print(f"sealed {sealed} pending event(s)")
    if not result.ok:
        console.print(f"[red]audit trail broken at event {result.first_broken_seq}:[/red] {result.problem}")
        console.print(f"{result.events_checked} event(s) verified before it")
        raise typer.Exit(1)
    console.print(f"[green]audit trail intact[/green]: {result.events_checked} event(s) verified")
    console.print(f"head: position {result.head_position}, chain hash {result.head_hash}")
    if result.unsealed:
        console.print(f"{result.unsealed} event(s) committed during verification are not sealed yet")


@audit_app.command("export")
def export_command(
    since: Since = None,
    until: Until = None,
    output: Output = "-",
    progress: ShowProgress = True,
) -> None:
    """Stream the audit events in [since, until) as JSON lines, in log order, with their seals."""
    written = run_export(since, until, output, progress, _export)
    console.print(f"[green]exported[/green] {written} event(s)")


def event_line(row: Any) -> str:
    return json.dumps(
        {
            "seq": row["seq"],
            "occurred_at": row["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_kind": row["actor_kind"],
            "actor_id": row["actor_id"],
            "action": row["action"],
            "subject_kind": row["subject_kind"],
            "subject_id": row["subject_id"],
            "region": row["region"],
            "request_id": row["request_id"],
            "reason": row["reason"],
            "before": row["before"],
            "after": row["after"],
            "event_hash": row["event_hash"],
            "seal_position": row["seal_position"],
            "chain_hash": row["chain_hash"],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


async def _export(url: str, since: datetime | None, until: datetime | None, out: IO[str], show: bool) -> int:
    from persistence.queries import audit as audit_queries

    return await export_rows(
        url,
        out,
        show,
        lambda session: audit_queries.count_events(session, since=since, until=until),
        lambda session: audit_queries.iter_export(session, since=since, until=until),
        event_line,
    )
