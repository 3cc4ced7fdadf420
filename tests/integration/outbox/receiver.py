"""A real HTTP receiver on 127.0.0.1 (a random port) that records what webhooks bring.

Paths choose the answer: ``/ok`` 204, ``/fail`` 500, ``/slow...`` answers 200 after ``slow_seconds``, anything
else 200. Runs in a thread
(the dispatcher under test shares the test's event loop or is another process).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base_url + path

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]


@contextlib.contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            item = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            if self.path.startswith("/slow"):
                time.sleep(receiver.slow_seconds)
            with receiver.lock:
                receiver.received.append(item)
            status = {"/ok": 204, "/fail": 500}.get(self.path, 200)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # the default 5 drops connections a dispatcher opens at once

    server = Server(("127.0.0.1", 0), Handler)
    receiver.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
