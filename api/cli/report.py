"""`vigil report`: the EU DSA transparency report of one region and period, as JSON, one HTML page, or the CSV of
the Commission's Quantitative or Qualitative Template (``api.services.transparency_report``)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console

from api.bootstrap import resolve_database
from api.cli.export import when_option
from api.settings import ConfigError, Settings
from domain.region import Region

report_app = typer.Typer(help="Reports: the DSA transparency report.", no_args_is_help=True)
console = Console(stderr=True)


class Format(StrEnum):
    json = "json"
    html = "html"
    csv = "csv"
    qualitative = "qualitative"


@report_app.command("transparency")
def transparency_command(
    from_: str = typer.Option(..., "--from", help="Inclusive start (ISO date or date-time; UTC if no offset)."),
    to: str = typer.Option(..., "--to", help="Exclusive end (ISO date or date-time; UTC if no offset)."),
    format: Format = typer.Option(
        Format.json,
        "--format",
        help="json; html (one self-contained page); csv (the Quantitative Template); qualitative (the Qualitative "
        "Template's CSV).",
    ),
    region: Region = typer.Option(Region.EU, help="The data region reported on."),
    output: str = typer.Option("-", "--output", "-o", help="File to write (default: standard output)."),
    about: str | None = typer.Option(
        None,
        "--about",
        help="JSON file: provider_name, service_name, qualitative (indicator → text), human_resources (official EU "
        "language → persons moderating content).",
    ),
) -> None:
    """The Commission's harmonised templates: orders of Member State authorities, art. 16 notices, own-initiative
    moderation, restrictions (each once), complaints, out-of-court disputes, art. 23 suspensions, automated means
    and their accuracy, human resources, monthly active recipients; and the qualitative texts."""
    from api.services.transparency_report import AboutError, load_about, report_document

    start, end = when_option(from_, "--from"), when_option(to, "--to")
    assert start is not None
    assert end is not None
    if start >= end:
        raise typer.BadParameter("--from must be before --to", param_hint="--from")
    try:
        described = load_about(about)
    except AboutError as exc:
        raise ConfigError(f"--about {exc}") from None
    database = resolve_database(Settings())
    try:
        report = report_document(asyncio.run(_figures(database.url, region.value, start, end)), described)
    finally:
        database.close()
    if format is Format.html:
        from api.services.transparency_html import render_html

        text = render_html(report)
    elif format is Format.csv:
        from api.services.transparency_csv import quantitative_csv

        text = quantitative_csv(report)
    elif format is Format.qualitative:
        from api.services.transparency_csv import qualitative_csv

        text = qualitative_csv(report)
    else:
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if output == "-":
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    console.print(f"[green]transparency report[/green] for {region.value} written ({format.value})")


async def _figures(url: str, region: str, start: datetime, end: datetime) -> dict[str, Any]:
    from persistence.db import create_engine, create_session_factory
    from persistence.queries.transparency import transparency_figures

    engine = create_engine(url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            return (await transparency_figures(session, region, start, end)).as_json()
    finally:
        await engine.dispose()
