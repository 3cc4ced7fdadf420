"""Serving with several worker processes (``VIGIL_WORKERS``; one per core in production): one listening socket,
bound by ``vigil serve`` before anything else starts, shared by that many uvicorn processes.

The socket must say it is TCP (``bind_listener`` creates it from ``getaddrinfo``): asyncio only sets
``TCP_NODELAY`` on such sockets, and uvicorn's own shared socket did not, so every keep-alive response waited
~40 ms for the client's delayed ACK (Nagle).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any


def serve_workers(sock: socket.socket, workers: int, *, on_ready: Callable[[], None], **options: Any) -> None:
    """Run ``workers`` processes of ``api.app:app_from_environment`` on ``sock`` until interrupted."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    class Announcing(Multiprocess):
        def init_processes(self) -> None:
            super().init_processes()  # the socket is bound and each worker accepts on it once started
            on_ready()

    config = uvicorn.Config("api.app:app_from_environment", factory=True, workers=workers, **options)
    Announcing(config, sockets=[sock]).run()
