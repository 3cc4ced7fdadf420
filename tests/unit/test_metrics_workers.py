"""Several workers, one scrape: prometheus-client's multiprocess mode as `vigil serve` sets it up."""

from __future__ import annotations

import os
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from api.metrics import MULTIPROCESS_DIR
from api.serving import shared_metrics_directory

WORKER = "from api.metrics import observe_operation as o; o('FromWorker', 'query', 'OK', 0.01)"
SCRAPE = (
    "import sys; from prometheus_client import generate_latest; from api.metrics import live_registry; "
    "sys.stdout.write(generate_latest(live_registry()).decode())"
)


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    return done.stdout


def test_a_scrape_sums_every_worker() -> None:
    with shared_metrics_directory() as path:
        assert os.environ[MULTIPROCESS_DIR] == str(path)
        run(WORKER)
        run(WORKER)
        text = run(SCRAPE)
    assert MULTIPROCESS_DIR not in os.environ
    assert not path.exists()
    counts = {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "vigil_graphql_operations_total"
    }
    assert counts[(("operation", "FromWorker"), ("outcome", "OK"), ("type", "query"))] == 2
