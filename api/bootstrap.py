"""Where the database comes from: `VIGIL_DATABASE_URL`, or else the embedded PostgreSQL in `.data/pg`."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from api.settings import Settings
from persistence.connectivity import check_reachable
from persistence.embedded import EmbeddedPostgres, start_embedded

DEV_DATABASE = "vigil"
log = logging.getLogger("vigil.database")


@dataclass
class DatabaseHandle:
    url: str
    embedded: EmbeddedPostgres | None = None
    _supervisor: EmbeddedSupervisor | None = field(default=None, repr=False)

    def supervise(self, interval: float = 2.0) -> None:
        """Restart the embedded PostgreSQL whenever it dies, until ``close`` (no-op for an external server)."""
        if self.embedded is not None and self._supervisor is None:
            self._supervisor = EmbeddedSupervisor(self.embedded, interval)
            self._supervisor.start()

    def close(self) -> None:
        if self._supervisor is not None:
            self._supervisor.stop()
            self._supervisor = None
        if self.embedded is not None:
            self.embedded.stop()


class EmbeddedSupervisor:
    """A daemon thread that checks the embedded postmaster every ``interval`` seconds and restarts it if gone."""

    def __init__(self, embedded: EmbeddedPostgres, interval: float) -> None:
        self.embedded = embedded
        self.interval = interval
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedded-postgres-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                if self.embedded.restart_if_down():
                    self.restarts += 1
                    log.warning("embedded PostgreSQL had stopped; restarted it (%s)", self.embedded.pgdata)
            except Exception as exc:  # keep supervising: the next tick tries again
                log.error("embedded PostgreSQL is down and could not be restarted: %s", exc)


def resolve_database(
    settings: Settings | None = None, database: str = DEV_DATABASE, *, probe: bool = True
) -> DatabaseHandle:
    """The database to use. With ``probe``, an external ``VIGIL_DATABASE_URL`` is connected to once, so an
    unreachable server is a one-line ``DatabaseUnreachable`` (not a traceback from the first query)."""
    settings = settings or Settings()
    if settings.database_url:
        if probe:
            check_reachable(settings.database_url)
        return DatabaseHandle(url=settings.database_url)
    pg = start_embedded(settings.pgdata)
    pg.ensure_database(database)
    return DatabaseHandle(url=pg.url(database), embedded=pg)


def start_database(settings: Settings) -> Future[DatabaseHandle]:
    """``resolve_database`` on a thread of its own, so the caller can import and build meanwhile (the embedded
    server takes ~150 ms to start; `vigil serve` imports its app in that time). ``result()`` gives the handle or
    raises what ``resolve_database`` raised."""
    starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigil-database-start")
    try:
        return starter.submit(resolve_database, settings)
    finally:
        starter.shutdown(wait=False)  # the submitted start still runs to its end
