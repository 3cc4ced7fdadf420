"""`api/graphql/` reads like the API (issue 11, point 4): one package per area, and no area imports another when
it loads; they name each other's types by the lazy references of `api.graphql.shared.refs`."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import api.graphql.shared.refs as refs
from api.graphql.shared.build import _resolved

GRAPHQL = Path(__file__).resolve().parents[3] / "api" / "graphql"
MACHINERY = {"shared", "limits", "compiler"}  # what every area stands on: shared types, request limits, execution
AREAS = sorted(p.name for p in GRAPHQL.iterdir() if (p / "__init__.py").exists() and p.name not in MACHINERY)


def _load_time_imports(path: Path) -> list[str]:
    """Modules a file imports when it loads (imports under `if TYPE_CHECKING:` are for mypy alone)."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_the_areas_are_the_apis() -> None:
    assert AREAS == [
        "appeals",
        "audit",
        "automation",
        "documents",
        "events",
        "intake",
        "operations",
        "policies",
        "review",
        "rules",
        "tokens",
        "transparency",
        "webhooks",
    ]


def test_no_area_imports_another_when_it_loads() -> None:
    sideways = []
    for area in [*AREAS, "shared"]:
        for path in sorted((GRAPHQL / area).glob("*.py")):
            for module in _load_time_imports(path):
                parts = module.split(".")
                if parts[:2] == ["api", "graphql"] and len(parts) > 2 and parts[2] in AREAS and parts[2] != area:
                    sideways.append(f"{path.relative_to(GRAPHQL)} imports {module}")
    assert sideways == []


def test_every_lazy_reference_names_its_type() -> None:
    names = [name for name in vars(refs) if name.endswith("Ref")]
    assert names
    for name in names:
        reference = getattr(refs, name)
        forward = typing.get_args(reference)[0]
        assert forward.__forward_arg__ == name.removesuffix("Ref")
        if name != "SubjectRef":  # a union: annotations only
            assert _resolved(reference).__strawberry_definition__.name == name.removesuffix("Ref")
