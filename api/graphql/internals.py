"""Every private name of strawberry and graphql-core that Vigil relies on, in this one module.

Vigil's executor shortcuts and compiled execution need a few things neither library offers publicly: the
graphql-core schema under a strawberry schema, the hook choosing the execute function, which fields have exception
handlers, how strawberry marks its default resolver, how its ``Info`` is built from graphql-core's resolve info,
whether a middleware manager holds any middleware, and the hook giving graphql-core's execution context its extra
keyword arguments. Each is a small typed function here, so an upgrade shows at once what to re-check (the unit tests
in ``tests/unit/graphql/test_internals.py`` fail if one is gone).

Checked against strawberry-graphql 0.341.2 and graphql-core 3.3.2 (``requirements.lock``); ``pyproject.toml``
bounds both to the versions these names are known in, so an upgrade is deliberate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLResolveInfo, GraphQLSchema
from strawberry.types.field import StrawberryField

CHECKED_AGAINST = {"strawberry-graphql": "0.341.2", "graphql-core": "3.3.2"}

InfoFactory = Callable[[GraphQLResolveInfo[Any], StrawberryField], Any]


def core_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema strawberry built (``Schema._schema``)."""
    core: GraphQLSchema = schema._schema
    return core


def replace_execute_function(schema: strawberry.Schema, execute: Callable[..., Any]) -> bool:
    """Make ``schema`` call ``execute`` where it calls graphql-core's ``execute`` (``Schema._get_execute_function``);
    False (nothing changed) when this strawberry has no such hook."""
    if not callable(getattr(schema, "_get_execute_function", None)):
        return False
    schema._get_execute_function = lambda: execute  # type: ignore[method-assign]
    return True


def exception_handlers_of(schema: strawberry.Schema) -> Callable[[StrawberryField], Any] | None:
    """``field -> its exception handlers`` (``GraphQLCoreConverter._get_field_exception_handlers``); None when this
    strawberry cannot say."""
    handlers: Callable[[StrawberryField], Any] | None = getattr(
        schema.schema_converter, "_get_field_exception_handlers", None
    )
    return handlers


def is_default_resolver(resolve: Any) -> bool:
    """Whether graphql-core's ``resolve`` for a field is strawberry's resolver of a field with no resolver of ours
    (strawberry marks it ``_is_default``)."""
    return bool(getattr(resolve, "_is_default", False))


def info_factory(info_class: type[Any]) -> InfoFactory:
    """``(raw info, field) -> strawberry Info`` as strawberry builds it (``info_class(_raw_info=, _field=)``): the
    class itself, called positionally, when its first two fields are those two (no extra frame per resolver)."""
    fields = [f.name for f in dataclasses.fields(info_class)] if dataclasses.is_dataclass(info_class) else []
    if fields[:2] == ["_raw_info", "_field"]:
        return info_class

    def build(raw: GraphQLResolveInfo[Any], field: StrawberryField) -> Any:
        return info_class(_raw_info=raw, _field=field)

    return build


def has_middleware(middleware: Any) -> bool:
    """Whether ``middleware`` (a list, or graphql-core's ``MiddlewareManager``) holds any middleware
    (``MiddlewareManager._middleware_resolvers``)."""
    if isinstance(middleware, list | tuple):
        return bool(middleware)
    return bool(getattr(middleware, "_middleware_resolvers", None))


class ContextKwargsHook(strawberry.Schema):
    """A strawberry schema whose graphql-core execution context gets extra keyword arguments from
    ``context_kwargs`` (strawberry's ``Schema._get_custom_context_kwargs``)."""

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        return self.context_kwargs(super()._get_custom_context_kwargs(operation_extensions, sync=sync))

    def context_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Override: the keyword arguments given to the execution context, from strawberry's own."""
        return kwargs
