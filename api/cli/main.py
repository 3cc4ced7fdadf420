"""The `vigil` command line: serve, dispatch, database, demo data, tokens and the audit trail."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console

from api.bootstrap import DatabaseHandle, resolve_database, start_database
from api.cli.audit import audit_app
from api.cli.db import register_db_commands
from api.cli.documents import documents_app
from api.cli.dsa import dsa_app
from api.cli.events import consume_command, events_app
from api.cli.report import report_app
from api.cli.tokens import token_app
from api.settings import ConfigError, Settings, describe_settings_error, load_settings
from persistence.connectivity import DatabaseUnreachable

app = typer.Typer(help="Vigil: trust & safety platform backend.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database: migrations and connection.", no_args_is_help=True)
app.add_typer(db_app, name="db")
register_db_commands(db_app)
schema_app = typer.Typer(help="The committed GraphQL schema (schema.graphql).", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
app.add_typer(audit_app, name="audit")
app.add_typer(token_app, name="token")
app.add_typer(dsa_app, name="dsa")
app.add_typer(report_app, name="report")
app.add_typer(documents_app, name="documents")
app.add_typer(events_app, name="events")
app.command("consume")(consume_command)
console = Console(stderr=True)


class ListenError(Exception):
    """The server cannot listen where it was told to; the message is one line."""


def bind_listener(host: str, port: int, *, shared_port: bool = False) -> socket.socket:
    """Bind the listening socket before anything else starts, so a taken port fails fast and clearly.

    ``shared_port``: bound with ``SO_REUSEPORT``, so each server worker can get a socket of its own on the same
    port (``api.serving``). The port is first bound without it, so a port another server holds (even one of
    ours, sharing its own port) still fails here."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(f"VIGIL_HOST={host!r} cannot be resolved ({exc.strerror}); expected a host or IP") from None
    family, kind, proto, _, address = infos[0]
    sock = _bound(family, kind, proto, address, host, port)
    if shared_port:
        address = sock.getsockname()  # the port chosen, when asked for port 0
        sock.close()
        sock = _bound(family, kind, proto, address, host, port, reuse_port=True)
    sock.set_inheritable(True)
    return sock


def _bound(
    family: int, kind: int, proto: int, address: Any, host: str, port: int, *, reuse_port: bool = False
) -> socket.socket:
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise ListenError(
            f"cannot listen on {host}:{port}: {reason}; is another server running there? "
            "Pick another port with VIGIL_PORT or --port"
        ) from None
    return sock


POOL_CLOSE_SECONDS = 10.0
"""How long a stopping process waits for its pool's connections to come back before closing them regardless."""


def _exit_on_sigterm() -> None:
    """SIGTERM ends the process through `finally` blocks (so the embedded PostgreSQL is stopped), like Ctrl-C."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default VIGIL_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Port (default VIGIL_PORT or 8000)."),
    migrate: bool = typer.Option(True, help="Upgrade the database to head before serving."),
    seed: bool = typer.Option(False, help="Load the demo data (idempotent) before serving."),
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql outside production). An embedded PostgreSQL is supervised
    (restarted if it dies) and stopped on exit."""
    gc.disable()  # start-up builds what lives as long as the process: collecting it meanwhile only costs time
    from api.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    host = host or settings.host
    port = port or settings.port
    _exit_on_sigterm()
    listener = bind_listener(host, port, shared_port=settings.worker_count > 1)
    database: DatabaseHandle | None = None
    try:
        starting = start_database(settings)  # PostgreSQL starts while the app's modules are imported
        try:
            import uvicorn

            from api.app import create_app
            from persistence import migrate as migrations
        finally:
            database = starting.result()
        database.supervise()
        if migrate:
            with console.status("Migrating the database to head"):
                migrations.upgrade_if_behind(database.url)
        workers = settings.worker_count
        # One worker: its app is built here, before the console's documents are checked against its schema (not
        # another one built for them, ~0.1 s). Several: each worker builds its own app.
        served = create_app(settings, database_url=database.url) if workers == 1 else None
        if seed:
            from api.services.seed import seed_demo

            with console.status("Loading demo data"):
                summary = asyncio.run(seed_demo(database.url))
            console.print(f"[green]demo data[/green] {summary}")
            from api.cli.documents import register_console_documents

            with console.status("Registering the console's trusted documents"):
                registered = asyncio.run(register_console_documents(database.url, schema=_graphql_schema(served)))
            console.print(f"[green]trusted documents[/green] {registered} new (api/console)")
        url = f"http://{host}:{port}/graphql"

        def ready() -> None:
            console.print(f"\n[bold green]Vigil is ready[/bold green] at [link={url}]{url}[/link]")
            if not settings.production:
                console.print("GraphiQL is served at that address. Requests without a token act as anonymous;")
                console.print("get a token with, for example:")
                console.print("  [cyan].venv/bin/vigil token issue --role admin --region '*'[/cyan]")
                console.print("  [cyan].venv/bin/vigil token issue --role moderator --region US[/cyan]")
                console.print('then send the header  Authorization: Bearer <token>  (GraphiQL: "Headers" tab).')
            stops = "the server and the embedded database" if database and database.embedded else "the server"
            console.print(f"Ctrl-C stops {stops}.\n")

        gc.freeze()
        gc.enable()
        options: dict[str, Any] = {"host": host, "port": port, "log_config": None, "server_header": False}
        options["proxy_headers"] = False
        if served is not None:
            config = uvicorn.Config(served, **options)
            ready_server(config, on_ready=ready).run(sockets=[listener])
        else:  # each worker process builds its own app from the environment (same settings, same database)
            from api.serving import serve_workers

            os.environ["VIGIL_DATABASE_URL"] = database.url
            serve_workers(listener, workers, on_ready=ready, **options)
    finally:
        listener.close()
        if database is not None:
            database.close()


def _graphql_schema(app: Any) -> Any:
    """The schema ``app`` serves on /graphql (None without one, or without an app)."""
    for route in getattr(app, "routes", ()):
        if getattr(route, "path", None) == "/graphql":
            return getattr(route.endpoint, "schema", None)
    return None


def ready_server(config: Any, on_ready: Callable[[], None]) -> Any:
    """uvicorn's server, announcing readiness only once the app started and the socket accepts connections."""
    import uvicorn

    class ReadyServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and not self.should_exit:
                on_ready()

    return ReadyServer(config)


@app.command()
def dispatch(
    once: bool = typer.Option(False, help="Make one pass (fan out, publish, send what is due) and exit."),
) -> None:
    """Carry outbox events to webhooks (and NATS when VIGIL_NATS_URL is set) until stopped: for deployments that
    run dispatchers apart from the API (set VIGIL_DISPATCHER=off there). Several may run at once. With
    VIGIL_DSA_ENDPOINT and VIGIL_DSA_TOKEN set, also sends DSA statements every VIGIL_DSA_INTERVAL seconds (one
    submission run at a time across all processes)."""
    from api.logs import configure_logging
    from api.services.dispatcher import from_settings
    from persistence.fast.sql import create_pool

    settings = load_settings()
    configure_logging(settings.log_level)
    _exit_on_sigterm()

    async def run(url: str) -> None:
        from api.services.dsa_submit import submit_periodically
        from persistence.db import create_engine, create_session_factory

        pool = await create_pool(url, size=4)
        engine = create_engine(url, pool_size=2)
        dispatcher = from_settings(pool, settings)
        try:
            if once:
                result = await dispatcher.run_once()
                await dispatcher.close()
                console.print(f"fanned out {result.fanned_out}, published {result.published}, {dict(result.outcomes)}")
            else:
                console.print("dispatching (Ctrl-C stops)")
                stop = asyncio.Event()
                # SIGTERM and Ctrl-C end the loop between passes: the sends in flight are cancelled, what was sent
                # is recorded, the pool's connections all come back. (SystemExit from a signal handler could land
                # inside a task holding a connection, and closing the pool then waited for it for ever.)
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                work = [dispatcher.run(stop, interval=settings.dispatch_interval)]
                if settings.dsa_endpoint and settings.dsa_token:  # and DSA statements to the Transparency Database
                    work.append(submit_periodically(create_session_factory(engine), settings, stop))
                await asyncio.gather(*work)
        finally:
            try:
                await asyncio.wait_for(pool.close(), timeout=POOL_CLOSE_SECONDS)
            except TimeoutError:  # a connection never came back: close them all rather than hang
                pool.terminate()
            await engine.dispose()

    database = resolve_database(settings)
    try:
        asyncio.run(run(database.url))
    except KeyboardInterrupt:
        pass
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
    from api.services.seed import seed_demo
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
def db_current(as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout.")) -> None:
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
        if as_json:
            print(json.dumps({"current": result.current, "head": result.head, "ready": result.ready}))
        else:
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
        if database.embedded is not None:  # a scratch database: every check starts from an empty one
            database.embedded.ensure_database(scratch, fresh=True)
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


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"vigil {version('vigil')}")
        except PackageNotFoundError:
            print("vigil (not installed as a package)")
        raise typer.Exit()


@app.callback()
def _root(
    _version_flag: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Vigil: trust & safety platform backend."""


def main() -> None:
    """The `vigil` entry point: expected failures (configuration, database, port) are one line on stderr."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        app()  # standalone: usage errors print typer's help and exit 2
    except ConfigError as exc:
        _fail_line(str(exc), 2)
    except ValidationError as exc:
        if exc.title != Settings.__name__:
            raise
        _fail_line(describe_settings_error(exc), 2)
    except (DatabaseUnreachable, ListenError) as exc:
        _fail_line(str(exc), 1)


def _fail_line(message: str, code: int) -> None:
    print(f"vigil: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
