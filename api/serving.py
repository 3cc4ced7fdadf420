"""Serving with several worker processes (``VIGIL_WORKERS``; one per core in production): one listening socket,
bound by ``vigil serve`` before anything else starts, shared by that many uvicorn processes.

The socket must say it is TCP (``bind_listener`` creates it from ``getaddrinfo``): asyncio only sets
``TCP_NODELAY`` on such sockets, and uvicorn's own shared socket did not, so every keep-alive response waited
~40 ms for the client's delayed ACK (Nagle).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from api.metrics import MULTIPROCESS_DIR


def serve_workers(sock: socket.socket, workers: int, *, on_ready: Callable[[], None], **options: Any) -> None:
    """Run ``workers`` processes of ``api.app:app_from_environment`` on ``sock`` until interrupted."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    class Announcing(Multiprocess):
        def init_processes(self) -> None:
            super().init_processes()  # the socket is bound and each worker accepts on it once started
            on_ready()

    config = uvicorn.Config("api.app:app_from_environment", factory=True, workers=workers, **options)
    with shared_metrics_directory():
        Announcing(config, sockets=[sock]).run()


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
