"""The last holder of the embedded PostgreSQL stops the server running *now*, even when another command restarted
it after this holder started it (issue 14, point 4: Ctrl-C on `make run` used to leave that one running)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import psutil

from persistence.embedded import running_postmaster, start_embedded
from tests.integration.operator.helpers import VIGIL, data_dir, vigil_env, wait_for


def test_leaving_stops_a_postmaster_another_command_restarted(tmp_path: Path) -> None:
    with data_dir() as data:
        handle = start_embedded(data / "pg")
        try:
            first = running_postmaster(handle.pgdata)
            assert first is not None
            os.kill(first, signal.SIGKILL)
            wait_for(lambda: running_postmaster(handle.pgdata) is None, 30, "the killed postmaster to be gone")

            # Another command (here `vigil db upgrade`) finds it down, starts it, and leaves it to us.
            upgrade = subprocess.run(
                [VIGIL, "db", "upgrade"], env=vigil_env(tmp_path, data), capture_output=True, text=True, check=False
            )
            assert upgrade.returncode == 0, upgrade.stderr
            second = running_postmaster(handle.pgdata)
            assert second not in (None, first)
        finally:
            handle.stop()

        assert running_postmaster(handle.pgdata) is None
        assert second is not None
        assert not psutil.pid_exists(second) or psutil.Process(second).status() == psutil.STATUS_ZOMBIE
