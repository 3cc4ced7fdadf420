"""A killed holder of the embedded PostgreSQL must not keep it alive forever: dead pids are pruned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from persistence.embedded import HANDLE_FILE, prune_dead_handles


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_dead_pids_are_pruned_and_live_ones_kept(tmp_path: Path) -> None:
    dead = _dead_pid()
    (tmp_path / HANDLE_FILE).write_text(json.dumps([os.getpid(), dead]))
    assert prune_dead_handles(tmp_path) == [dead]
    assert json.loads((tmp_path / HANDLE_FILE).read_text()) == [os.getpid()]


def test_missing_or_corrupt_handle_file(tmp_path: Path) -> None:
    assert prune_dead_handles(tmp_path) == []
    (tmp_path / HANDLE_FILE).write_text("not json")
    assert prune_dead_handles(tmp_path) == []
    assert json.loads((tmp_path / HANDLE_FILE).read_text()) == []
