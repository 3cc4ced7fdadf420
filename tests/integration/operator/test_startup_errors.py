"""Operator mistakes at start-up are one clear line naming what to fix, never a traceback; "ready" is printed
only once the port is bound (issue 14, points 4 and 7)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.integration.operator.helpers import free_port, run_vigil, vigil_env


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("VIGIL_PORT", "abc", "a whole number from 1 to 65535"),
        ("VIGIL_PORT", "99999", "a whole number from 1 to 65535"),
        ("VIGIL_ENV", "prod", "one of development, test, production"),
        ("VIGIL_LOG_LEVEL", "loud", "one of DEBUG, INFO"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = run_vigil(["serve"], vigil_env(tmp_path, **{variable: value}), tmp_path)

    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert f"{variable}={value!r}" in line
    assert expected in line
    assert "is ready" not in result.stderr + result.stdout


def test_a_taken_port_is_one_line_and_never_ready(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = run_vigil(["serve"], vigil_env(tmp_path, VIGIL_PORT=str(port)), tmp_path)

    assert result.returncode == 1
    line = _one_line(result.stderr)
    assert f"cannot listen on 127.0.0.1:{port}" in line
    assert "VIGIL_PORT" in line
    assert "is ready" not in result.stderr + result.stdout
    assert not (tmp_path / "data").exists()  # it failed before starting any database


@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"], ["token", "list"]])
def test_an_unreachable_database_url_is_one_line(tmp_path: Path, command: list[str]) -> None:
    url = f"postgresql+asyncpg://vigil:s3cret@127.0.0.1:{free_port()}/vigil"

    result = run_vigil(command, vigil_env(tmp_path, VIGIL_DATABASE_URL=url), tmp_path)

    assert result.returncode == 1
    line = _one_line(result.stderr)
    assert "cannot reach the database" in line
    assert "VIGIL_DATABASE_URL" in line
    assert "s3cret" not in line


def test_a_database_url_that_is_not_one_is_one_line(tmp_path: Path) -> None:
    result = run_vigil(["db", "current"], vigil_env(tmp_path, VIGIL_DATABASE_URL="localhost:5432"), tmp_path)

    assert result.returncode == 1
    assert "VIGIL_DATABASE_URL is not a database URL" in _one_line(result.stderr)
