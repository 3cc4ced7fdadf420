"""Two bootstraps at once on a fresh clone take turns on `.venv` (issue 14, point 6): the Makefile's install
runs under a lock and the second one finds the first one's install. A stand-in `python3` records each install
step, so the test runs the real Makefile in seconds without touching the network or the real venv."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

FAKE_PYTHON = textwrap.dedent(
    """\
    #!/bin/sh
    # `fake-python -m venv DIR` makes DIR/bin/python, which logs each pip call (with its pid) slowly.
    if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
      mkdir -p "$3/bin"
      cat > "$3/bin/python" <<'INNER'
    #!/bin/sh
    echo "start $$" >> "$INSTALL_LOG"
    sleep 1
    echo "end $$" >> "$INSTALL_LOG"
    INNER
      chmod +x "$3/bin/python"
      exit 0
    fi
    exit 1
    """
)


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("flock") is None, reason="needs make and flock")
def test_two_concurrent_installs_take_turns_and_install_once(tmp_path: Path) -> None:
    for name in ("Makefile", "requirements.lock", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    log = tmp_path / "install.log"
    env = {"PATH": "/usr/bin:/bin", "INSTALL_LOG": str(log)}
    command = ["make", "--no-print-directory", "install", f"PYTHON={fake}"]

    first = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    second = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    outputs = [p.communicate(timeout=60)[0].decode() for p in (first, second)]

    assert [first.returncode, second.returncode] == [0, 0], outputs
    events = log.read_text().split()
    steps = [events[i : i + 4] for i in range(0, len(events), 4)]
    # One install of three steps (dependencies, the project, its bytecode), each finished before the next began.
    assert len(events) == 12, events
    assert [(s[0], s[2]) for s in steps] == [("start", "end")] * 3, events
    assert [s[1] for s in steps] == [s[3] for s in steps], events
    assert len(list(tmp_path.glob(".venv/.installed-*"))) == 1


def test_make_help_and_the_readme_list_make_clean() -> None:
    help_text = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True)
    assert "make clean" in help_text.stdout
    assert "make clean" in (ROOT / "README.md").read_text()
