"""`vigil serve` (what `make run` runs) supervises its embedded PostgreSQL: a killed postmaster is restarted and
requests work again; Ctrl-C stops the PostgreSQL it runs on, even one restarted since (issue 14, point 4)."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import psutil

from persistence.embedded import running_postmaster
from tests.integration.operator.helpers import VIGIL, data_dir, free_port, vigil_env, wait_for


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_serve_restarts_a_killed_embedded_postgres_and_stops_it_on_ctrl_c(tmp_path: Path) -> None:
    with data_dir() as data:
        _serve_kill_and_stop(tmp_path, data)


def _serve_kill_and_stop(tmp_path: Path, data: Path) -> None:
    port = free_port()
    pgdata = data / "pg"
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        [VIGIL, "serve", "--port", str(port)], env=vigil_env(tmp_path, data), cwd=tmp_path, stdout=log, stderr=log
    )
    try:
        wait_for(lambda: "Vigil is ready" in (tmp_path / "serve.log").read_text(), 120, "Vigil is ready")
        assert _ready(port)
        first = running_postmaster(pgdata)
        assert first is not None

        os.kill(first, signal.SIGKILL)  # the database dies under the running server

        wait_for(lambda: running_postmaster(pgdata) not in (None, first), 60, "a restarted postmaster")
        wait_for(lambda: _ready(port), 60, "/readyz to answer 200 again")
        wait_for(lambda: "restarted it" in (tmp_path / "serve.log").read_text(), 30, "the restart's log line")
        second = running_postmaster(pgdata)

        serve.send_signal(signal.SIGINT)  # Ctrl-C
        assert serve.wait(60) in (0, 130)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait(10)
        log.close()

    assert second is not None
    assert not psutil.pid_exists(second) or psutil.Process(second).status() == psutil.STATUS_ZOMBIE
    assert running_postmaster(pgdata) is None
