"""The `vigil` command line: serve, database, demo data, tokens and the audit trail."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import typer
from rich.console import Console

from api.bootstrap import resolve_database
from api.cli_audit import audit_app
from api.cli_tokens import token_app
from api.settings import Settings

app = typer.Typer(help="Vigil: trust & safety platform backend.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database: migrations and connection.", no_args_is_help=True)
app.add_typer(db_app, name="db")
schema_app = typer.Typer(help="The committed GraphQL schema (schema.graphql).", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
app.add_typer(audit_app, name="audit")
app.add_typer(token_app, name="token")
console = Console(stderr=True)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default VIGIL_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default VIGIL_PORT or 8000)."),
    migrate: bool = typer.Option(True, help="Upgrade the database to head before serving."),
    seed: bool = typer.Option(False, help="Load the demo data (idempotent) before serving."),
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql outside production)."""
    import uvicorn

    from api.app import create_app
    from api.logs import configure_logging
    from persistence import migrate as migrations

    settings = Settings()
    configure_logging(settings.log_level)
    host = host or settings.host
    port = port or settings.port
    database = resolve_database(settings)
    try:
        if migrate:
            with console.status("Migrating the database to head"):
                migrations.upgrade(database.url)
        if seed:
            from api.seed import seed_demo

            with console.status("Loading demo data"):
                summary = asyncio.run(seed_demo(database.url))
            console.print(f"[green]demo data[/green] {summary}")
        url = f"http://{host}:{port}/graphql"
        console.print(f"\n[bold green]Vigil is ready[/bold green] at [link={url}]{url}[/link]")
        if not settings.production:
            console.print("GraphiQL is served at that address. Requests without a token act as anonymous;")
            console.print("get a token with, for example:")
            console.print("  [cyan].venv/bin/vigil token issue --role admin --region '*'[/cyan]")
            console.print("  [cyan].venv/bin/vigil token issue --role moderator --region US[/cyan]")
            console.print('then send the header  Authorization: Bearer <token>  (GraphiQL: "Headers" tab).')
        console.print("Ctrl-C stops the server and the embedded database.\n")
        options: dict[str, Any] = {"log_config": None, "server_header": False, "proxy_headers": False}
        workers = settings.worker_count
        if workers == 1:
            uvicorn.run(create_app(settings, database_url=database.url), host=host, port=port, **options)
        else:  # each worker process builds its own app from the environment (same settings, same database)
            from api.serving import bind_tcp, serve_workers

            os.environ["VIGIL_DATABASE_URL"] = database.url
            serve_workers(bind_tcp(host, port), workers, **options)
    finally:
        database.close()


@app.command()
def seed(
    scale: int = typer.Option(
        0,
        min=0,
        max=10_000_000,
        help="Also write N synthetic cases with their accounts, content, reports, "
        "decisions and strikes (benchmark data, no audit events; idempotent).",
    ),
) -> None:
    """Load the demo data (idempotent: a second run adds nothing)."""
    from api.seed import seed_demo
    from persistence import migrate as migrations

    database = resolve_database(Settings())
    try:
        migrations.upgrade(database.url)
        summary = asyncio.run(seed_demo(database.url))
        console.print(f"[green]demo data[/green] {summary}")
        if scale:
            _seed_scale(database.url, scale)
    finally:
        database.close()


def _seed_scale(url: str, cases: int) -> None:
    from rich.progress import Progress

    from persistence.scale import seed_scale

    with Progress(console=console) as progress:
        task = progress.add_task(f"{cases:,} synthetic cases", total=cases)
        asyncio.run(seed_scale(url, cases, lambda done: progress.advance(task, done)))
    console.print(f"[green]{cases:,} synthetic cases[/green] in place")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Upgrade the database to REVISION (default head)."""
    from persistence import migrate as migrations

    database = resolve_database(Settings())
    try:
        migrations.upgrade(database.url, revision)
        console.print(f"[green]database at[/green] {revision}")
    finally:
        database.close()


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base.")) -> None:
    """Downgrade the database to REVISION."""
    from persistence import migrate as migrations

    database = resolve_database(Settings())
    try:
        migrations.downgrade(database.url, revision)
        console.print(f"[green]database at[/green] {revision}")
    finally:
        database.close()


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision and the code's head."""
    from persistence import migrate as migrations
    from persistence.db import create_engine, create_session_factory

    database = resolve_database(Settings())

    async def status() -> migrations.MigrationStatus:
        engine = create_engine(database.url, pool_size=1)
        try:
            return await migrations.migration_status(create_session_factory(engine))
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(status())
        print(f"current: {result.current or '(none)'}")
        print(f"head:    {result.head}")
        if not result.ready:
            raise typer.Exit(1)
    finally:
        database.close()


@db_app.command("url")
def db_url() -> None:
    """Print the database URL in use (the embedded server's unix socket unless VIGIL_DATABASE_URL is set)."""
    database = resolve_database(Settings())
    try:
        print(database.url)
    finally:
        database.close()


@db_app.command("check")
def db_check() -> None:
    """Migrate a scratch database to head and verify the tables match the migrations (alembic check)."""
    from alembic.util.exc import AutogenerateDiffsDetected

    from persistence import migrate as migrations

    settings = Settings()
    scratch = "vigil_check"
    database = resolve_database(settings, database=scratch)
    try:
        migrations.upgrade(database.url)
        migrations.check(database.url)
        console.print("[green]migrations match the tables[/green]")
    except AutogenerateDiffsDetected as exc:
        console.print(f"[red]tables and migrations differ:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        database.close()


@schema_app.command("export")
def schema_export() -> None:
    """Write the exported schema to schema.graphql."""
    from api.graphql.schema import export_sdl
    from api.settings import PROJECT_ROOT

    (PROJECT_ROOT / "schema.graphql").write_text(export_sdl())
    console.print("[green]schema.graphql written[/green]")


@schema_app.command("check")
def schema_check() -> None:
    """Fail when schema.graphql differs from the exported schema."""
    from api.graphql.schema import export_sdl
    from api.settings import PROJECT_ROOT

    path = PROJECT_ROOT / "schema.graphql"
    if not path.exists() or path.read_text() != export_sdl():
        console.print("[red]schema.graphql is out of date:[/red] run `make schema` and commit it")
        raise typer.Exit(1)
    console.print("[green]schema.graphql is up to date[/green]")


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(app())


if __name__ == "__main__":
    main()
