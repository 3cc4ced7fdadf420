"""`vigil db start | stop | status`: the embedded PostgreSQL of `.data/pg`, managed by hand.

`start` leaves the server running after the command ends (until `stop`, or until the last `make run` that
joined it leaves); `stop` stops it even when it was started by another process; `status` says whether it runs.
With `VIGIL_DATABASE_URL` set there is no embedded server to manage, and these commands say so.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

from api.settings import Settings, load_settings

console = Console(stderr=True)


def _embedded_settings() -> Settings:
    settings = load_settings()
    if settings.database_url:
        console.print("[red]error:[/red] VIGIL_DATABASE_URL is set: no embedded PostgreSQL is used, nothing to manage")
        raise typer.Exit(2)
    return settings


def embedded_status(settings: Settings) -> dict[str, Any]:
    from persistence.embedded import HANDLE_FILE, PIN_FILE, running_postmaster

    pgdata = settings.pgdata.resolve()
    pid = running_postmaster(pgdata)
    holders: list[int] = []
    handles = pgdata / HANDLE_FILE
    if handles.exists():
        try:
            holders = [int(p) for p in json.loads(handles.read_text() or "[]")]
        except ValueError:
            holders = []
    return {
        "running": pid is not None,
        "kept_running": (pgdata / PIN_FILE).exists(),
        "pid": pid,
        "pgdata": str(pgdata),
        "initialised": (pgdata / "PG_VERSION").exists(),
        "holders": holders,
    }


def register_db_commands(db_app: typer.Typer) -> None:
    @db_app.command("start")
    def db_start() -> None:
        """Start the embedded PostgreSQL (creating `.data/pg` and the `vigil` database) and leave it running."""
        from api.bootstrap import resolve_database

        settings = _embedded_settings()
        database = resolve_database(settings)
        assert database.embedded is not None
        database.embedded.detach()
        console.print(f"[green]embedded PostgreSQL running[/green] (pid {database.embedded.postmaster_pid()})")
        print(database.url)

    @db_app.command("stop")
    def db_stop() -> None:
        """Stop the embedded PostgreSQL, whoever started it (a running `make run` loses its database)."""
        from persistence.embedded import HANDLE_FILE, PIN_FILE, prune_dead_handles, stop_postmaster

        settings = _embedded_settings()
        pgdata = settings.pgdata.resolve()
        if pgdata.exists():
            prune_dead_handles(pgdata)
        status = embedded_status(settings)
        if not status["running"]:
            (pgdata / PIN_FILE).unlink(missing_ok=True)
            console.print("embedded PostgreSQL is not running")
            return
        stop_postmaster(pgdata)
        (pgdata / HANDLE_FILE).write_text("[]")
        (pgdata / PIN_FILE).unlink(missing_ok=True)
        holders = status["holders"]
        note = f" (it was held by pid {', '.join(map(str, holders))})" if holders else ""
        console.print(f"[green]embedded PostgreSQL stopped[/green]{note}")

    @db_app.command("grant-app-role")
    def db_grant_app_role(
        role: str = typer.Argument(..., help="The role the API connects as, e.g. vigil_app."),
        password_env: str | None = typer.Option(
            None, help="Name of an environment variable holding the role's password (never on the command line)."
        ),
    ) -> None:
        """Create (or update) the API's own PostgreSQL role and grant it what it needs, as the tables' owner:
        read and write the data, only read and insert the audit trail (no UPDATE, DELETE, TRUNCATE; not being the
        owner, it cannot ALTER or DROP a table, so it cannot disable the append-only triggers). Run it after
        every `vigil db upgrade`."""
        import asyncio
        import os

        from api.bootstrap import resolve_database
        from persistence.app_role import check_role_name, grant_app_role

        try:
            check_role_name(role)
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        password = None
        if password_env is not None:
            password = os.environ.get(password_env)
            if not password:
                console.print(f"[red]error:[/red] the environment variable {password_env} is unset or empty")
                raise typer.Exit(2)
        database = resolve_database(load_settings())
        try:
            asyncio.run(grant_app_role(database.url, role, password))
        finally:
            database.close()
        console.print(f"[green]role {role} may use the database[/green] (the audit trail: read and insert only)")

    @db_app.command("status")
    def db_status(as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout.")) -> None:
        """Whether the embedded PostgreSQL runs (exit 0) or not (exit 3), its pid and data directory."""
        status = embedded_status(_embedded_settings())
        if as_json:
            print(json.dumps(status))
        elif status["running"]:
            print(f"running\tpid {status['pid']}\t{status['pgdata']}")
        else:
            print(f"stopped\t{status['pgdata']}")
        if not status["running"]:
            raise typer.Exit(3)
