"""The CLI in pipes (issue 14, point 9): listings have `--json`, nothing is truncated when stdout is not a
terminal (an id from `token list` is accepted by `token revoke`), `vigil --version`, `vigil db start|stop|status`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from persistence.embedded import running_postmaster
from tests.integration.authz.test_cli_tokens import vigil
from tests.integration.operator.helpers import data_dir

VIGIL = str(Path(sys.executable).parent / "vigil")


async def _issue_three(db_url: str) -> None:
    for role, region in (("moderator", "US"), ("auditor", "*"), ("analyst", "EU")):
        code, _, err = await vigil(db_url, "token", "issue", "--role", role, "--region", region)
        assert code == 0, err


async def test_token_list_in_a_pipe_prints_whole_ids_that_revoke_accepts(db_url: str) -> None:
    await _issue_three(db_url)

    code, out, err = await vigil(db_url, "token", "list")  # stdout is a pipe here, as in `vigil token list | ...`

    assert code == 0, err
    header, *lines = out.splitlines()
    assert header.split("\t")[:3] == ["id", "prefix", "name"]
    assert len(lines) == 3
    assert "…" not in out
    first_id = lines[0].split("\t")[0]
    code, _, err = await vigil(db_url, "token", "revoke", first_id)
    assert code == 0, err
    assert "revoked" in err


async def test_token_list_json_has_every_field(db_url: str) -> None:
    await _issue_three(db_url)

    code, out, err = await vigil(db_url, "token", "list", "--json")

    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 3
    assert {r["holder"] for r in rows} == {"moderator-US", "auditor-global", "analyst-EU"}
    assert all(r["status"] == "ACTIVE" and len(r["id"]) == 36 for r in rows)
    code, _, err = await vigil(db_url, "token", "revoke", rows[0]["id"])
    assert code == 0, err
    code, out, _ = await vigil(db_url, "token", "list", "--json")
    statuses = {json.loads(line)["id"]: json.loads(line)["status"] for line in out.splitlines()}
    assert statuses[rows[0]["id"]] == "REVOKED"


async def test_db_current_json(db_url: str) -> None:
    code, out, err = await vigil(db_url, "db", "current", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert status["ready"] is True
    assert status["current"] == status["head"]


def test_version() -> None:
    result = subprocess.run([VIGIL, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("vigil ")
    assert result.stdout.split()[1][0].isdigit()


def test_db_start_status_stop_manage_the_embedded_server(tmp_path: Path) -> None:
    with data_dir() as data:
        _start_status_stop(tmp_path, data)


def _start_status_stop(tmp_path: Path, data: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env["VIGIL_DATA_DIR"] = str(data)
    pgdata = data / "pg"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([VIGIL, "db", *args], env=env, cwd=tmp_path, capture_output=True, text=True, check=False)

    try:
        stopped = run("status", "--json")
        assert stopped.returncode == 3
        assert json.loads(stopped.stdout)["running"] is False

        started = run("start")
        assert started.returncode == 0, started.stderr
        pid = running_postmaster(pgdata)
        assert pid is not None  # still running after the command ended
        assert "vigil" in started.stdout  # the URL of the `vigil` database

        status = run("status", "--json")
        assert status.returncode == 0
        assert json.loads(status.stdout)["pid"] == pid
        assert run("upgrade").returncode == 0  # other commands join it and leave it running
        assert running_postmaster(pgdata) == pid

        stop = run("stop")
        assert stop.returncode == 0, stop.stderr
        assert "stopped" in stop.stderr, stop.stderr
        assert running_postmaster(pgdata) is None
        assert run("status").returncode == 3
    finally:
        if running_postmaster(pgdata) is not None:
            run("stop")


def test_db_start_refuses_when_an_external_database_is_configured(tmp_path: Path) -> None:
    env = {**os.environ, "VIGIL_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1:1/x"}
    result = subprocess.run([VIGIL, "db", "start"], env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "VIGIL_DATABASE_URL is set" in result.stderr
