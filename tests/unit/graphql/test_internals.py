"""The private strawberry and graphql-core names of ``api.graphql.internals`` exist in the installed versions and do
what Vigil relies on; the installed versions are within the bounds pyproject.toml sets."""

from __future__ import annotations

import asyncio
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLSchema, execute
from graphql.execution import MiddlewareManager
from packaging.requirements import Requirement

from api.graphql import internals

ROOT = Path(__file__).resolve().parents[3]


@strawberry.type
class Query:
    plain: str = "x"

    @strawberry.field
    def computed(self, info: strawberry.Info) -> str:
        return str(info.path.key)

    @strawberry.field
    def kwargs(self, info: strawberry.Info) -> bool:
        return bool(info.context["hidden"])


def test_the_installed_versions_are_those_checked_and_within_the_bounds() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = {Requirement(d).name: Requirement(d).specifier for d in dependencies}
    for name, checked in internals.CHECKED_AGAINST.items():
        assert version(name) == checked, f"{name} {version(name)}: re-check api/graphql/internals.py"
        assert bounds[name], f"{name} is not bounded in pyproject.toml"
        assert checked in bounds[name]


def test_the_core_schema_and_the_default_resolver_mark() -> None:
    schema = strawberry.Schema(query=Query)
    core = internals.core_schema(schema)
    assert isinstance(core, GraphQLSchema)
    fields = core.query_type.fields  # type: ignore[union-attr]
    assert internals.is_default_resolver(fields["plain"].resolve)
    assert not internals.is_default_resolver(fields["computed"].resolve)


def test_the_execute_function_is_replaced() -> None:
    schema = strawberry.Schema(query=Query)
    calls: list[str] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append("called")
        return execute(*args, **kwargs)

    assert internals.replace_execute_function(schema, counting)
    result = asyncio.run(schema.execute("{ plain }", root_value=Query()))
    assert result.data == {"plain": "x"}
    assert calls == ["called"]


def test_exception_handlers_and_info() -> None:
    schema = strawberry.Schema(query=Query)
    handlers = internals.exception_handlers_of(schema)
    assert handlers is not None
    definition = internals.core_schema(schema).query_type.fields["computed"].extensions["strawberry-definition"]  # type: ignore[union-attr]
    assert not handlers(definition)
    make = internals.info_factory(strawberry.Info)
    assert make is strawberry.Info  # called positionally: no frame of ours per resolver
    raw: Any = object()
    info = make(raw, definition)
    assert info._raw_info is raw
    assert info._field is definition


def test_middleware_is_seen() -> None:
    assert not internals.has_middleware(None)
    assert not internals.has_middleware([])
    assert internals.has_middleware([lambda next_, *a, **k: next_(*a, **k)])
    assert not internals.has_middleware(MiddlewareManager())
    assert internals.has_middleware(MiddlewareManager(lambda next_, *a, **k: next_(*a, **k)))


def test_the_context_kwargs_hook_reaches_the_execution_context() -> None:
    seen: list[dict[str, Any]] = []

    class Hooked(internals.ContextKwargsHook):
        def context_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
            seen.append(kwargs)
            return {**kwargs, "hide_suggestions": True}

    schema = Hooked(query=Query)
    result = asyncio.run(schema.execute("{ kwargs }", context_value={"hidden": 1}))
    assert result.data == {"kwargs": True}
    assert seen
    refused = asyncio.run(schema.execute("query($v: Int) { plain }", variable_values={"v": "x"}))
    assert refused.errors
    assert "Did you mean" not in refused.errors[0].message
