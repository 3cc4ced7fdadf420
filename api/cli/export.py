"""What every `vigil ... export` shares: the [since, until) options, the output (a file or standard output) and
writing a streamed result as JSON lines under a progress bar on standard error."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from api.bootstrap import resolve_database
from api.settings import Settings

if TYPE_CHECKING:
    from persistence.db import Rows, Session

console = Console(stderr=True)
Since = Annotated[str | None, typer.Option(help="Inclusive start (ISO date or date-time; UTC if no offset).")]
Until = Annotated[str | None, typer.Option(help="Exclusive end (ISO date or date-time; UTC if no offset).")]
Output = Annotated[str, typer.Option("--output", "-o", help="File to write (default: standard output).")]
ShowProgress = Annotated[bool, typer.Option(help="Show a progress bar on standard error.")]
#: (database url, since, until, output, show progress) → lines written
Export = Callable[[str, datetime | None, datetime | None, IO[str], bool], Coroutine[Any, Any, int]]


def when_option(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO date or date-time", param_hint=option) from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def run_export(since: str | None, until: str | None, output: str, progress: bool, export: Export) -> int:
    """Check the period, then run ``export`` on the configured database into ``output`` (``-``: stdout)."""
    start, end = when_option(since, "--since"), when_option(until, "--until")
    if start is not None and end is not None and start >= end:
        raise typer.BadParameter("--since must be before --until", param_hint="--since")
    database = resolve_database(Settings())
    try:
        if output == "-":
            return asyncio.run(export(database.url, start, end, sys.stdout, progress))
        with open(output, "w", encoding="utf-8") as out:
            return asyncio.run(export(database.url, start, end, out, progress))
    finally:
        database.close()


async def export_rows(
    url: str,
    out: IO[str],
    show: bool,
    count: Callable[[Session], Awaitable[int]],
    stream: Callable[[Session], Awaitable[Rows]],
    line: Callable[[Any], str],
) -> int:
    """Count, then stream, in one read transaction on ``url``, writing each row as ``line`` makes it."""
    from persistence.db import create_engine, create_session_factory

    engine = create_engine(url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            total = await count(session)
            return await write_lines(await stream(session), line, out, total=total, show=show)
    finally:
        await engine.dispose()


async def write_lines(result: Rows, line: Callable[[Any], str], out: IO[str], *, total: int, show: bool) -> int:
    """Each row of the streamed ``result`` as one line, partition by partition, advancing the progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    written = 0
    columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not show) as bar:
        task = bar.add_task("export", total=total)
        async for partition in result.mappings().partitions():
            out.write("".join(line(row) + "\n" for row in partition))
            written += len(partition)
            bar.update(task, advance=len(partition))
    out.flush()
    return written
