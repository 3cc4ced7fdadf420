"""Issue 14 item 4 (the request side): while the database is away every request, in-flight ones included, answers
503 SERVICE_UNAVAILABLE with Retry-After; one WARNING when it goes, one INFO when it is back, no traceback.

The app reaches PostgreSQL through a TCP relay the test owns: closing the relay (and every connection through it)
is a real outage as the app sees one, while the test keeps its own direct connection to the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from api.app import create_app
from api.settings import Settings
from tests.integration.tokens import issue_staff_token
from tests.security.conftest import LogLines

QUERY = {"query": "{ cases(first: 1) { nodes { id } } }"}


class Relay:
    """A TCP relay to the test server (its unix socket, or its host and port) that can be cut and restored."""

    def __init__(self, db_url: str) -> None:
        url = make_url(db_url)
        socket_dir = url.query.get("host")
        self.unix_path = f"{socket_dir}/.s.PGSQL.{url.port or 5432}" if isinstance(socket_dir, str) else None
        self.target = (url.host or "127.0.0.1", url.port or 5432)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def url_for(self, db_url: str) -> str:
        url = make_url(db_url).set(host="127.0.0.1", port=self.port, query={})
        return url.render_as_string(hide_password=False)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.unix_path is not None:
            up_reader, up_writer = await asyncio.open_unix_connection(self.unix_path)
        else:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(self._pipe(source, sink))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.transport.abort()
            self.writers.discard(sink)


async def _wait_for_lock_waiter(conn: asyncpg.Connection) -> None:
    """Until a statement of the app waits on the lock the test holds (bounded, no fixed sleep)."""
    for _ in range(500):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the app's statement never reached the lock")


async def test_an_outage_is_503_for_every_request_and_logged_once(db_url: str, logs: LogLines) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    relay = Relay(db_url)
    await relay.start()
    app = create_app(Settings(env="test", audit_seal_interval=0), database_url=relay.url_for(db_url))  # type: ignore[arg-type]
    headers = {"Authorization": f"Bearer {admin}"}
    direct_dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    locker = await asyncpg.connect(direct_dsn)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
                assert (await http.post("/graphql", json=QUERY, headers=headers)).status_code == 200

                # in flight: the app's statement waits on a lock when the database goes away
                lock = locker.transaction()
                await lock.start()
                await locker.execute("LOCK TABLE cases IN ACCESS EXCLUSIVE MODE")
                in_flight = asyncio.ensure_future(http.post("/graphql", json=QUERY, headers=headers))
                await _wait_for_lock_waiter(locker)
                await relay.cut()
                await lock.rollback()
                responses = [await in_flight]

                # during the outage: new requests, authenticated or not, touching the database or not
                responses.append(await http.post("/graphql", json=QUERY, headers=headers))
                responses.append(await http.post("/graphql", json={"query": "{ __typename }"}))

                await relay.start()  # the same port: the database is back
                back = await http.post("/graphql", json=QUERY, headers=headers)
    finally:
        with contextlib.suppress(Exception):
            await relay.cut()
        await locker.close()

    for response in responses:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert back.status_code == 200
    assert "errors" not in back.json()
    database_lines: list[Any] = [r for r in logs.records if r.name == "vigil.database"]
    assert [(r.levelno, r.getMessage()) for r in database_lines] == [
        (logging.WARNING, "database unavailable: answering 503 until it is back"),
        (logging.INFO, "database available again"),
    ]
    assert not logs.tracebacks()
    assert not logs.at_least(logging.ERROR)


async def test_the_audit_sealer_logs_an_outage_once(db_url: str, logs: LogLines) -> None:
    from persistence.audit import AuditSealer
    from persistence.db import create_engine, create_session_factory

    unreachable = make_url(db_url).set(host="127.0.0.1", port=1, query={}).render_as_string(hide_password=False)
    away = create_engine(unreachable, pool_size=1)
    back = create_engine(db_url, pool_size=1)
    try:
        sealer = AuditSealer(create_session_factory(away), interval=0)
        for _ in range(3):  # three ticks while the database is away
            await sealer.tick_logged()
        sealer.sessions = create_session_factory(back)
        await sealer.tick_logged()
    finally:
        await away.dispose()
        await back.dispose()
    lines = [(r.levelno, r.getMessage()) for r in logs.records if r.name == "vigil.audit"]
    assert lines == [
        (logging.WARNING, "audit sealing paused: the database is unavailable"),
        (logging.INFO, "audit sealing resumed"),
    ]
    assert not logs.tracebacks()
