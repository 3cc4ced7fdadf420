"""Features are grouped where they live (issue 21, point 8): the DSA and the outbox each in one domain package, the
fast engine in `persistence/fast/`, the read side in `persistence/queries/`. The packages say what lives where and
re-export nothing; what both engines share does not lean on the fast one; the read side takes only the pool from it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FEATURES = ["domain/dsa", "domain/dsa/services", "domain/outbox", "domain/outbox/services", "persistence/fast"]
SHARED = ["changeset", "retry", "uow", "repositories", "mapping", "audit", "outbox", "locks", "operations"]
"""Modules of `persistence/` both engines stand on (the SQL unit of work and the prefetching ones)."""


def _modules_imported(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_each_feature_package_says_what_lives_where_and_re_exports_nothing() -> None:
    for package in FEATURES:
        tree = ast.parse((ROOT / package / "__init__.py").read_text())
        assert ast.get_docstring(tree), f"{package} has no docstring"
        assert [type(node).__name__ for node in tree.body] == ["Expr"], (
            f"{package}/__init__.py holds more than a docstring"
        )


def test_the_packages_docstrings_name_modules_that_exist() -> None:
    for package in [*FEATURES, "persistence/queries"]:
        docstring = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text())) or ""
        dotted = package.replace("/", ".")
        for word in docstring.replace("`", " ").replace(",", " ").replace(":", " ").split():
            if word.startswith(dotted + "."):
                module = ROOT / (word.replace(".", "/") + ".py")
                assert module.exists() or (module.with_suffix("") / "__init__.py").exists(), f"{package}: {word}"


def test_what_both_engines_share_imports_nothing_of_the_fast_engine() -> None:
    leaning = [
        f"persistence/{name}.py imports {module}"
        for name in SHARED
        for module in _modules_imported(ROOT / "persistence" / f"{name}.py")
        if module == "persistence.fast" or module.startswith("persistence.fast.")
    ]
    assert leaning == []


def test_the_read_side_takes_only_the_pool_from_the_fast_engine() -> None:
    taken = {
        module
        for path in sorted((ROOT / "persistence" / "queries").glob("*.py"))
        for module in _modules_imported(path)
        if module.startswith("persistence.fast")
    }
    assert taken <= {"persistence.fast.sql"}
