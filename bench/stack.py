"""What every HTTP benchmark stands on: a throwaway embedded PostgreSQL, the server started as in production
(`vigil serve`, ``VIGIL_ENV=production``, one worker per core) and load from separate processes.

The baselines (raw asyncpg, hand-written SQL) also run in a separate process against the same PostgreSQL in the
same run, so a ratio compares like with like on whatever machine runs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from persistence import migrate
from persistence.embedded import EmbeddedPostgres, start_embedded
from persistence.principals import create_token, ensure_partner, ensure_staff
from persistence.uow import SqlUnitOfWork

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """``with Stack() as stack:`` a migrated database; ``stack.server()`` a production server on it."""

    def __init__(self, database: str = "bench") -> None:
        self.database = database
        self._tmp = tempfile.TemporaryDirectory(prefix="vigil-bench-")
        self.pg: EmbeddedPostgres | None = None
        self.url = ""
        self.logs = Path(self._tmp.name) / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Stack:
        self.pg = start_embedded(Path(self._tmp.name) / "pg", throwaway=True)
        self.pg.ensure_database(self.database)
        self.url = self.pg.url(self.database)
        migrate.upgrade(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pg is not None:
            self.pg.stop()
        self._tmp.cleanup()

    @contextlib.contextmanager
    def server(self, **env: str) -> Iterator[int]:
        """`vigil serve` in production mode on a free port; yields the port once /readyz answers 200."""
        port = free_port()
        environ = {**os.environ, "VIGIL_ENV": "production", "VIGIL_DATABASE_URL": self.url, "VIGIL_PORT": str(port)}
        environ.update(env)
        with self.logs.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "api.entry", "serve", "--no-migrate"], env=environ, cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.process = process
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited ({process.returncode}); see {self.logs}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                        # /readyz answers once one worker serves; "Vigil is ready" once all of them do (load
                        # sent before that would all land on the first worker up)
                        if response.status == 200 and b"Vigil is ready" in self.logs.read_bytes():
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not become ready in 60 s")
                time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def server_cpu_seconds(stack: Stack) -> float:
    """CPU time (user + system) used so far by the server and its worker processes."""
    import psutil

    if stack.process is None:
        return 0.0
    root = psutil.Process(stack.process.pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def postgres_cpu_seconds(stack: Stack) -> float:
    """CPU time (user + system) used so far by the stack's PostgreSQL: its postmaster, the backends running now and
    those that ended (the postmaster waited for them, so their time is in its children's)."""
    import psutil

    pid = stack.pg.postmaster_pid() if stack.pg is not None else None
    if pid is None:
        return 0.0
    postmaster = psutil.Process(pid)
    total = 0.0
    for backend in postmaster.children():
        try:
            times = backend.cpu_times()
        except psutil.NoSuchProcess:  # ended meanwhile: in the postmaster's children's time, read below
            continue
        total += times.user + times.system
    times = postmaster.cpu_times()
    return float(total + times.user + times.system + times.children_user + times.children_system)


def run_process(module: str, job: dict[str, Any]) -> dict[str, Any]:
    """Run ``python -m module JOB`` (a load generator or a baseline) and return the JSON it prints."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(job, handle)
        path = handle.name
    try:
        done = subprocess.run(
            [sys.executable, "-m", module, path], cwd=ROOT, capture_output=True, text=True, check=False
        )
    finally:
        os.unlink(path)
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def load(port: int, bodies: list[dict[str, Any]], concurrency: int, headers: dict[str, str], keep: int = 3) -> Any:
    return run_process(
        "bench.load", {"port": port, "bodies": bodies, "concurrency": concurrency, "headers": headers, "keep": keep}
    )


async def platform_token(uow: SqlUnitOfWork) -> str:
    """A platform-service partner token for every region (what an upstream platform pushes reports with)."""
    from authz.scopes import preset_scopes

    now = datetime.now(UTC)
    principal = await ensure_partner(uow, f"bench-platform-{uuid.uuid4().hex[:6]}")
    scopes = sorted(p.value for p in preset_scopes("platform_service"))
    _, secret = await create_token(
        uow, principal_id=principal, name="bench", scopes=scopes, region="*", issued_by=None,
        expires_at=now + timedelta(hours=2), now=now,
    )  # fmt: skip
    return secret


async def staff_token(uow: SqlUnitOfWork, role: str, region: str, name: str) -> str:
    now = datetime.now(UTC)
    principal = await ensure_staff(uow, name=name, display_name=name, role=role, region=region)
    _, secret = await create_token(
        uow, principal_id=principal, name="bench", scopes=None, region=None, issued_by=None,
        expires_at=now + timedelta(hours=2), now=now,
    )  # fmt: skip
    return secret


def settle(stack: Stack, timeout: float = 60.0) -> None:
    """Wait until the server's dispatcher has fanned out every outbox event (written by the legs run so far), so the
    next leg does not pay for the last one's events: a leg's own events are dispatched while it runs, as in steady
    state. (Without it, a batch leg at ~5,000 reports/s left thousands behind, and the leg after it paid a third more
    PostgreSQL time a report for them.)"""
    import asyncio

    import asyncpg

    from persistence.fast.sql import asyncpg_dsn

    async def wait() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(stack.url))
        try:
            deadline = time.monotonic() + timeout
            while await conn.fetchval("SELECT EXISTS (SELECT FROM outbox_events WHERE dispatched_at IS NULL)"):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the outbox did not drain in {timeout:.0f} s")
                await asyncio.sleep(0.05)
        finally:
            await conn.close()

    asyncio.run(wait())


def ratio_line(name: str, rate: float, baseline_name: str, baseline: float, target: str) -> str:
    return (
        f"{name:<34} {rate:9.1f}/s   {baseline_name:<30} {baseline:9.1f}/s   ratio {rate / baseline:6.3f}  ({target})"
    )
