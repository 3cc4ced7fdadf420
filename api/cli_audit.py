"""`vigil audit`: verify the hash-chained audit trail, export it as JSON lines."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import IO, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.bootstrap import resolve_database
from api.settings import Settings

audit_app = typer.Typer(help="The audit trail: verify the hash chain, export events.", no_args_is_help=True)
console = Console(stderr=True)


def when_option(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO date or date-time", param_hint=option) from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


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
    since: str | None = typer.Option(None, help="Inclusive start (ISO date or date-time; UTC if no offset)."),
    until: str | None = typer.Option(None, help="Exclusive end (ISO date or date-time; UTC if no offset)."),
    output: str = typer.Option("-", "--output", "-o", help="File to write (default: standard output)."),
    progress: bool = typer.Option(True, help="Show a progress bar on standard error."),
) -> None:
    """Stream the audit events in [since, until) as JSON lines, in log order, with their seals."""
    start, end = when_option(since, "--since"), when_option(until, "--until")
    if start is not None and end is not None and start >= end:
        raise typer.BadParameter("--since must be before --until", param_hint="--since")
    database = resolve_database(Settings())
    try:
        if output == "-":
            written = asyncio.run(_export(database.url, start, end, sys.stdout, progress))
        else:
            with open(output, "w", encoding="utf-8") as out:
                written = asyncio.run(_export(database.url, start, end, out, progress))
    finally:
        database.close()
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
    from persistence import audit_queries
    from persistence.db import create_engine, create_session_factory

    engine = create_engine(url, pool_size=1)
    written = 0
    try:
        async with create_session_factory(engine)() as session, session.begin():
            total = await audit_queries.count_events(session, since=since, until=until)
            columns = (
                TextColumn("exporting"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=console, disable=not show) as bar:
                task = bar.add_task("export", total=total)
                result = await audit_queries.iter_export(session, since=since, until=until)
                async for partition in result.mappings().partitions():
                    out.write("".join(event_line(row) + "\n" for row in partition))
                    written += len(partition)
                    bar.update(task, advance=len(partition))
            out.flush()
    finally:
        await engine.dispose()
    return written
