"""Run the real `vigil` command in a subprocess, with its own environment (no `.env`, no inherited VIGIL_*)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

VIGIL = str(Path(sys.executable).with_name("vigil"))


def vigil_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.update({"VIGIL_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1", "COLUMNS": "200"})
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
