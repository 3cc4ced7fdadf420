"""A real HTTP receiver on 127.0.0.1 (a random port) that records what webhooks bring.

Paths choose the answer: ``/ok`` 204, ``/fail`` 500, ``/slow...`` answers 200 after ``slow_seconds``, ``/flaky``
503 while ``down`` is set, anything else 200. ``connections`` counts every connection accepted (a refused
address must not even connect). With ``tls`` it speaks HTTPS with that server context. Runs in a thread
(the dispatcher under test shares the test's event loop or is another process).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    slow_seconds: float = 0.0
    down: bool = False
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base_url + path

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]


@contextlib.contextmanager
def running_receiver(tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def setup(self) -> None:
            if isinstance(self.request, ssl.SSLSocket):
                self.request.do_handshake()
            super().setup()

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            item = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            if self.path.startswith("/slow"):
                time.sleep(receiver.slow_seconds)
            with receiver.lock:
                receiver.received.append(item)
            status = {"/ok": 204, "/fail": 500, "/flaky": 503 if receiver.down else 200}.get(self.path, 200)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # the default 5 drops connections a dispatcher opens at once

        def get_request(self) -> tuple[socket.socket, Any]:
            connection, address = self.socket.accept()
            with receiver.lock:
                receiver.connections += 1
            if tls is not None:
                connection = tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
            return connection, address

        def handle_error(self, request: object, client_address: object) -> None:
            if tls is None:  # over TLS, a client that gave up on the handshake is what some tests expect
                super().handle_error(request, client_address)  # type: ignore[arg-type]

    server = Server(("127.0.0.1", 0), Handler)
    scheme = "https" if tls is not None else "http"
    receiver.base_url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
