"""Serving with several worker processes (``VIGIL_WORKERS``; one per core in production), each accepting on a
socket of its own on the one port (``SO_REUSEPORT``), bound by ``vigil serve`` before anything else starts.

One socket shared by all workers let the first worker to wake accept every pending connection: a few keep-alive
clients (or a proxy's few upstream connections) arriving together all landed on one worker, one core busy and
the other idle (a console page's p50 doubled in one benchmark run out of three). With a socket per worker the
kernel spreads new connections over them; a worker that dies is replaced on the socket it served.

The sockets must say they are TCP (created from ``getaddrinfo``'s answer): asyncio only sets ``TCP_NODELAY``
on such sockets, and uvicorn's own shared socket did not, so every keep-alive response waited ~40 ms for the
client's delayed ACK (Nagle).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from api.metrics import MULTIPROCESS_DIR

log = logging.getLogger("vigil.serving")


def serve_workers(sock: socket.socket, workers: int, *, on_ready: Callable[[], None], **options: Any) -> None:
    """Run ``workers`` processes of ``api.app:app_from_environment`` on ``sock``'s port until interrupted: the
    first on ``sock`` (bound with ``SO_REUSEPORT``), each other one on a socket of its own."""
    import uvicorn

    config = uvicorn.Config("api.app:app_from_environment", factory=True, workers=workers, **options)
    sockets = [sock, *(_same_port(sock) for _ in range(workers - 1))]
    try:
        with shared_metrics_directory():
            _supervisor(config, sockets, on_ready).run()
    finally:
        for extra in sockets[1:]:
            extra.close()


def _same_port(sock: socket.socket) -> socket.socket:
    twin = socket.socket(sock.family, sock.type, sock.proto)
    twin.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    twin.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    twin.bind(sock.getsockname())
    twin.set_inheritable(True)
    return twin


def _supervisor(config: Any, sockets: list[socket.socket], on_ready: Callable[[], None]) -> Any:
    """uvicorn's supervisor, with worker ``i`` always on ``sockets[i]`` (its own checks and signals otherwise)."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors.multiprocess import Multiprocess, Process

    class OneSocketEach(Multiprocess):
        def start(self, index: int) -> Process:
            process = Process(self.config, [sockets[index]])
            process.start()
            return process

        def init_processes(self) -> None:
            self.processes = [self.start(i) for i in range(len(sockets))]
            for process in self.processes:  # "ready" once every worker serves, not only the first one up
                process.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit)
            on_ready()

        def keep_subprocess_alive(self) -> None:
            for index, process in enumerate(self.processes):
                if self.should_exit.is_set() or process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                    continue
                process.kill()  # hung or gone
                process.join()
                if process.exitcode == STARTUP_FAILURE:  # the next one would fail alike: stop
                    log.error("server worker %s failed to start; stopping", process.pid)
                    self.should_exit.set()
                    return
                log.warning("server worker %s stopped (exit code %s); starting another", process.pid, process.exitcode)
                self.processes[index] = self.start(index)

        def restart_all(self) -> None:  # SIGHUP: each worker replaced in turn, on the same socket
            for index, old in enumerate(self.processes):
                if self.should_exit.is_set():
                    return
                new = self.start(index)
                if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                    new.kill()
                    new.join()
                    return
                old.terminate()
                old.join()
                self.processes[index] = new

        def handle_ttin(self) -> None:  # the number of workers follows the sockets bound at start
            return None

        def handle_ttou(self) -> None:
            return None

    return OneSocketEach(config, sockets=sockets)


@contextlib.contextmanager
def shared_metrics_directory() -> Iterator[Path]:
    """Where the workers write their metrics for ``/metrics`` to sum (prometheus-client's multiprocess mode).

    A fresh directory per ``vigil serve`` (figures of a previous run would be added to this one's), or the
    operator's ``PROMETHEUS_MULTIPROC_DIR`` emptied at start. Set before the workers start: they read it at import."""
    given = os.environ.get(MULTIPROCESS_DIR)
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="vigil-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIR] = str(path)
    try:
        yield path
    finally:
        if not given:
            shutil.rmtree(path, ignore_errors=True)
            os.environ.pop(MULTIPROCESS_DIR, None)
