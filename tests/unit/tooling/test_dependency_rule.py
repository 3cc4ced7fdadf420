"""The dependency rule, read from the imports (every one: at load time, in a function, under `TYPE_CHECKING`):
api -> domain <- persistence. The API imports no SQLAlchemy (what a database failure means comes from
`persistence.errors`; SQL lives in persistence); the domain imports no framework and no outer layer; persistence
imports nothing of the API."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, module in _imports(path)
        if any(module == name or module.startswith(name + ".") for name in forbidden)
    ]


def test_the_api_imports_no_sqlalchemy() -> None:
    assert _offenders("api", ("sqlalchemy",)) == []


def test_the_domain_imports_no_framework_and_no_outer_layer() -> None:
    frameworks = ("sqlalchemy", "asyncpg", "strawberry", "graphql", "starlette", "alembic", "httpx", "casbin")
    assert _offenders("domain", (*frameworks, "api", "persistence", "authz")) == []


def test_persistence_imports_nothing_of_the_api() -> None:
    assert _offenders("persistence", ("api",)) == []


def test_the_rule_is_read_from_every_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sqlalchemy import Table\n"
        "def f():\n    import sqlalchemy.exc\n"
    )
    assert [name for _, name in _imports(module)] == ["typing", "sqlalchemy", "sqlalchemy.exc"]
