"""Run every benchmark with its defaults: `.venv/bin/python -m bench`."""

from __future__ import annotations

import sys

from bench import audit_ingest, claims


def main() -> None:
    sys.argv = sys.argv[:1]  # each bench parses its own options; here they all take their defaults
    for bench in (audit_ingest, claims):
        print(f"== {bench.__name__} ==", flush=True)
        bench.main()


if __name__ == "__main__":
    main()
