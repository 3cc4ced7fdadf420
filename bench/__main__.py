"""Run every benchmark with its defaults: `make bench` (= `.venv/bin/python -m bench`).

Each prints its rate, the baseline's rate measured in the same run on the same PostgreSQL, and the ratio.
The growth part of `bench.page` writes a million cases first (a few minutes); `python -m bench.page --large N`
runs it smaller.
"""

from __future__ import annotations

import sys

from bench import audit_ingest, claims, events, ingest, intake_growth, page, rules, startup, trusted


def main() -> None:
    sys.argv = sys.argv[:1]  # each bench parses its own options; here they all take their defaults
    for bench in (startup, ingest, intake_growth, claims, page, trusted, audit_ingest, rules, events):
        print(f"== {bench.__name__} ==", flush=True)
        bench.main()


if __name__ == "__main__":
    main()
