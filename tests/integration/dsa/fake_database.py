"""A stand-in for the DSA Transparency Database's statement API, served on 127.0.0.1 (a random port) by the test
that needs it: the same paths, status codes and answer shapes as the real API, and the same validation rules
(``domain.dsa.statement_rules``). ``failures`` holds statuses to answer first (one per call: 429, 500, ...);
``refuse`` maps a puid to extra reasons the database finds (e.g. personal data spotted in the facts)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from api.services.dsa_client import BATCH_PATH, PUID_PATH
from domain.dsa.statement_rules import DUPLICATE_PUID, duplicate_puids, statement_errors

TOKEN = "X|test-token"


class FakeTransparencyDatabase:
    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}  # puid → the statement as created
        self.received: list[str] = []  # puids of every statement created, in order (a puid twice = sent twice)
        self.failures: list[int] = []
        self.refuse: dict[str, dict[str, list[str]]] = {}
        self.calls: list[tuple[str, int]] = []  # (method, status) of every call answered
        self.lock = threading.Lock()

    def answer(self, method: str, path: str, auth: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        with self.lock:
            status, payload = self._answer(method, path, auth, body)
            self.calls.append((method, status))
            return status, payload

    def _answer(self, method: str, path: str, auth: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        if auth != f"Bearer {TOKEN}":
            return 401, {"message": "Unauthenticated."}
        if self.failures:
            status = self.failures.pop(0)
            return status, {"message": "Too Many Attempts." if status == 429 else "Server Error"}
        if method == "GET" and path.startswith(PUID_PATH):
            puid = unquote(path.removeprefix(PUID_PATH))
            found = self.stored.get(puid)
            if found is None:
                return 404, {"message": "statement of reason not found", "puid": puid}
            return 302, found
        if method == "POST" and path == BATCH_PATH:
            return self._store(body)
        return 404, {"message": "Not Found"}

    def _store(self, body: Any) -> tuple[int, dict[str, Any]]:
        statements = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(statements, list) or not 1 <= len(statements) <= 100:
            return 422, {"message": "The statements field must have between 1 and 100 items.", "errors": {}}
        errors: dict[str, dict[str, list[str]]] = {}
        for index, statement in enumerate(statements):
            found = statement_errors(statement) if isinstance(statement, dict) else {"statement": ["invalid"]}
            found.update(self.refuse.get(statement.get("puid", ""), {}) if isinstance(statement, dict) else {})
            if found:
                errors[f"statement_{index}"] = found
        if errors:
            return 422, {"errors": errors}
        if duplicate_puids(statements):
            message = "The platform identifier(s) are not all unique within this call."
            return 422, {"message": message, "errors": {"puid": [message]}}
        existing = {
            f"statement_{i}": {"puid": [DUPLICATE_PUID]} for i, s in enumerate(statements) if s["puid"] in self.stored
        }
        if existing:
            return 422, {"message": DUPLICATE_PUID, "errors": existing}
        created = []
        for statement in statements:
            made = {**statement, "uuid": str(uuid.uuid4()), "created_at": datetime.now(UTC).isoformat()}
            self.stored[statement["puid"]] = made
            self.received.append(statement["puid"])
            created.append(made)
        return 201, {"statements": created}


class _Handler(BaseHTTPRequestHandler):
    database: FakeTransparencyDatabase

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        status, payload = self.database.answer(method, self.path, self.headers.get("Authorization"), body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serving() -> Iterator[tuple[FakeTransparencyDatabase, str]]:
    """The fake database and its base URL, served on a thread until the block ends."""
    database = FakeTransparencyDatabase()
    handler = type("Handler", (_Handler,), {"database": database})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield database, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
