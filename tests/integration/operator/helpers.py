"""Run the real `vigil` command in a subprocess, with its own environment (no `.env`, no inherited VIGIL_*)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

VIGIL = str(Path(sys.executable).with_name("vigil"))


@contextlib.contextmanager
def data_dir() -> Iterator[Path]:
    """A data directory for an embedded PostgreSQL, outside pytest's tmp_path: when running as root, the server
    runs as another user and needs its parent directories traversable, and a concurrent pytest session resets
    `/tmp/pytest-of-root` to mode 0700 (the same reason tests/conftest.py uses mkdtemp)."""
    root = Path(tempfile.mkdtemp(prefix="vigil-op-"))
    try:
        yield root / "data"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def vigil_env(tmp_path: Path, data: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.update({"VIGIL_DATA_DIR": str(data or tmp_path / "data"), "NO_COLOR": "1", "COLUMNS": "200"})
    env.update(extra)
    return env


def run_vigil(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VIGIL, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
