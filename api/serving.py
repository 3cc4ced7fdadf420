"""Serving with several worker processes: one listening socket shared by ``workers`` uvicorn processes.

uvicorn binds its shared socket without naming the protocol, and asyncio only sets ``TCP_NODELAY`` on sockets
that say they are TCP: every keep-alive response then waited ~40 ms for the client's delayed ACK (Nagle). The
socket is bound here as TCP, so each worker's connections get ``TCP_NODELAY`` like a single-process server's.
"""

from __future__ import annotations

import socket
from typing import Any


def bind_tcp(host: str, port: int) -> socket.socket:
    """A listening TCP socket (``OSError`` when the address is taken or not ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve_workers(sock: socket.socket, workers: int, **options: Any) -> None:
    """Run ``workers`` processes of ``api.app:app_from_environment`` on ``sock`` until interrupted."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("api.app:app_from_environment", factory=True, workers=workers, **options)
    Multiprocess(config, sockets=[sock]).run()
