"""`vigil dsa`: export statements of reasons as JSON lines; submit them to the DSA Transparency Database."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import IO, Any

import typer
from rich.console import Console

from api.bootstrap import resolve_database
from api.cli_export import Output, ShowProgress, Since, Until, export_rows, run_export
from api.settings import Settings

dsa_app = typer.Typer(help="EU DSA statements of reasons: export, submit.", no_args_is_help=True)
console = Console(stderr=True)


@dsa_app.command("export")
def export_command(
    since: Since = None,
    until: Until = None,
    output: Output = "-",
    progress: ShowProgress = True,
) -> None:
    """Stream the statements taken in [since, until) as JSON lines: each line is one statement exactly as it is
    sent to the database, plus `_submission` (its state and the database's id)."""
    written = run_export(since, until, output, progress, _export)
    console.print(f"[green]exported[/green] {written} statement(s)")


def _statement_line(row: Any) -> str:
    submission = {"state": row["submission"], "id": row["database_id"]}
    return json.dumps({**row["fields"], "_submission": submission}, ensure_ascii=False, separators=(",", ":"))


async def _export(url: str, since: datetime | None, until: datetime | None, out: IO[str], show: bool) -> int:
    from persistence.queries.statements import count_statements, stream_statements

    return await export_rows(
        url,
        out,
        show,
        lambda session: count_statements(session, since=since, until=until),
        lambda session: stream_statements(session, since=since, until=until),
        _statement_line,
    )


@dsa_app.command("submit")
def submit_command() -> None:
    """Send every PENDING statement to the DSA Transparency Database (VIGIL_DSA_ENDPOINT, VIGIL_DSA_TOKEN) in
    batches of up to 100. Safe to re-run after a crash: statements left in flight are looked up by puid first,
    so none is sent twice. Exit 1 when the database could not be reached (the next run resumes)."""
    from api.dsa_client import SubmissionFailed, TransparencyDatabaseClient
    from api.dsa_submit import submit_alone
    from persistence.db import create_engine, create_session_factory

    settings = Settings()
    if not settings.dsa_endpoint or not settings.dsa_token:
        console.print("[red]set VIGIL_DSA_ENDPOINT and VIGIL_DSA_TOKEN[/red] (the database's API and its token)")
        raise typer.Exit(2)
    endpoint, token = settings.dsa_endpoint, settings.dsa_token

    async def run() -> None:
        engine = create_engine(database.url, pool_size=2)
        client = TransparencyDatabaseClient(
            endpoint, token, attempts=settings.dsa_attempts, backoff=settings.dsa_backoff
        )
        try:
            async with client:
                tally = await submit_alone(
                    create_session_factory(engine),
                    client,
                    batch_size=settings.dsa_batch_size,
                    on_batch=lambda step: console.print(f"batch: {step.submitted} submitted, {step.rejected} rejected"),
                )
        finally:
            await engine.dispose()
        if tally is None:
            console.print("another submission run (a dispatcher or this command) is under way: nothing done")
            return
        console.print(
            f"[green]done[/green]: {tally.submitted} submitted, {tally.rejected} rejected, "
            f"{tally.reconciled} found already submitted, {tally.batches} batch(es), {client.retries} retried call(s)"
        )

    database = resolve_database(settings)
    try:
        asyncio.run(run())
    except SubmissionFailed as exc:
        console.print(f"[red]submission stopped[/red]: {exc}; run again to resume")
        raise typer.Exit(1) from None
    finally:
        database.close()
