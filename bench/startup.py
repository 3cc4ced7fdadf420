"""`make run` start-up with data present: seconds from `vigil serve --seed` until `/readyz` answers 200.

The data directory is a throwaway one, initialised (database, migrations, demo data) by a first run that is not
counted. The baseline, measured in the same run on the same data directory, is the floor any `vigil serve` on an
embedded database stands on: a Python process that starts the embedded PostgreSQL and waits until it accepts
connections. Each figure is the median of ``--runs`` starts.

    .venv/bin/python -m bench.startup [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.stack import ROOT, free_port

TARGET_SECONDS = 1.5
VIGIL = [sys.executable, "-m", "api.entry"]  # what the `vigil` script runs
POSTGRES_ONLY = """
import sys
from pathlib import Path
from persistence.embedded import start_embedded
pg = start_embedded(Path(sys.argv[1]))
pg.ensure_database("vigil")
print("ready", flush=True)
pg.stop()
"""


def time_to_ready(data_dir: Path) -> float:
    """Seconds from starting `vigil serve --seed` to the first 200 from /readyz; the server is stopped after."""
    port = free_port()
    env = {**os.environ, "VIGIL_DATA_DIR": str(data_dir), "VIGIL_PORT": str(port), "VIGIL_ENV": "development"}
    env.pop("VIGIL_DATABASE_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen([*VIGIL, "serve", "--seed"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"vigil serve exited with {process.returncode} before it was ready")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                pass
            if time.perf_counter() - started > 60:
                raise SystemExit("vigil serve was not ready in 60 s")
            time.sleep(0.005)
    finally:
        process.terminate()  # SIGTERM: the server stops and so does its embedded PostgreSQL
        process.wait(timeout=30)


def time_postgres_alone(data_dir: Path) -> float:
    """Seconds until the embedded PostgreSQL accepts connections (its stop afterwards is not counted)."""
    started = time.perf_counter()
    command = [sys.executable, "-c", POSTGRES_ONLY, str(data_dir / "pg")]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        elapsed = time.perf_counter() - started
        process.wait(timeout=30)
    if line.strip() != "ready" or process.returncode != 0:
        raise SystemExit("the embedded PostgreSQL did not start")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vigil-bench-start-") as tmp:
        data_dir = Path(tmp)
        first = time_to_ready(data_dir)  # initialises the database, migrates, loads the demo data
        serve, floor = [], []
        for _ in range(args.runs):
            serve.append(time_to_ready(data_dir))
            floor.append(time_postgres_alone(data_dir))
    ready, baseline = statistics.median(serve), statistics.median(floor)
    print(f"startup: median of {args.runs} starts with data present (first start, empty directory: {first:.2f} s)")
    print(
        f"{'make run ready (vigil serve --seed)':<34} {ready:8.2f} s    {'embedded PostgreSQL alone':<30} "
        f"{baseline:8.2f} s    ratio {ready / baseline:6.2f}  (target: ready <= {TARGET_SECONDS} s)"
    )


if __name__ == "__main__":
    main()
