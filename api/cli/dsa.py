"""`vigil dsa`: export statements of reasons as JSON lines; submit them to the DSA Transparency Database."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import IO, Any

import typer
from rich.console import Console

from api.bootstrap import resolve_database
from api.cli.export import Output, ShowProgress, Since, Until, export_rows, run_export
from api.settings import ConfigError, Settings

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
    sent to the database, plus `_submission` (its state, the database's id, and its reasons when it rejected it)."""
    written = run_export(since, until, output, progress, _export)
    console.print(f"[green]exported[/green] {written} statement(s)")


def _statement_line(row: Any) -> str:
    submission = {"state": row["submission"], "id": row["database_id"], "rejection": list(row["rejection"] or ())}
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


def _fail(message: str, code: int) -> typer.Exit:
    """An expected failure, as the rest of the CLI prints it (one line on stderr)."""
    print(f"vigil: error: {message}", file=sys.stderr, flush=True)
    return typer.Exit(code)


@dsa_app.command("submit")
def submit_command(
    resend: list[str] = typer.Option(
        [],
        "--resend",
        metavar="PUID",
        help="First queue this REJECTED statement to be sent again, unchanged (repeatable; correct one first "
        "with the resendStatementOfReasons mutation).",
    ),
) -> None:
    """Send every PENDING statement to the DSA Transparency Database (VIGIL_DSA_ENDPOINT, VIGIL_DSA_TOKEN) in
    batches of up to 100. Safe to re-run after a crash: statements left in flight are looked up by puid first,
    so none is sent twice. Exit 1 when the database could not be reached (the next run resumes)."""
    from api.services.dsa_client import SubmissionFailed, TransparencyDatabaseClient
    from api.services.dsa_submit import resend_rejected, submit_alone
    from domain.errors import DomainError
    from persistence.db import create_engine, create_session_factory

    settings = Settings()
    if not settings.dsa_endpoint or not settings.dsa_token:
        raise ConfigError("set VIGIL_DSA_ENDPOINT and VIGIL_DSA_TOKEN (the database's API and its token)")
    endpoint, token = settings.dsa_endpoint, settings.dsa_token

    async def run() -> None:
        engine = create_engine(database.url, pool_size=2)
        client = TransparencyDatabaseClient(
            endpoint, token, attempts=settings.dsa_attempts, backoff=settings.dsa_backoff
        )
        try:
            sessions = create_session_factory(engine)
            if resend:
                await resend_rejected(sessions, resend)
                console.print(f"{len(set(resend))} rejected statement(s) queued again")
            async with client:
                tally = await submit_alone(
                    sessions,
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
    except DomainError as exc:
        raise _fail(f"--resend: {exc.message}", 2) from None
    except SubmissionFailed as exc:
        raise _fail(f"submission stopped: {exc}; run again to resume", 1) from None
    finally:
        database.close()
