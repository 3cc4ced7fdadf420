"""graphql-core's executor with a shortcut for plain leaf fields, and direct calls for plain resolvers.

A console page completes ~2,800 fields, most of them plain attributes of records already loaded (`state`,
`priority`, `handle`, `source`, `verdict`, ...). For each one graphql-core builds a resolve-info object, checks for
arguments and awaitables and walks ``complete_value`` to reach ``coerce_output_value``: several microseconds
each, a quarter of a page's CPU. A *plain leaf field* has strawberry's default resolver (no resolver of ours, no
permission class, no field extension), no arguments, and a scalar or enum type; for it the shortcut reads the
attribute and coerces it directly.

The shortcut only answers when the answer is the ordinary one: a value that is present and coerces to something
present. A null, an exception or a value the type refuses takes the ordinary path, which makes the error exactly
as before (the attribute is read again: it is a plain read). Which fields qualify is worked out once per schema.

A *plain resolver* is a resolver of ours with no field extension (so no permission class and no read check), no
exception handler and no arguments but built-in scalars: ``policy(self, info)``, ``subject(self, info)``,
``decision``, ``reports(self, info, first=50)``... (~900 calls on a console page). Strawberry reaches each through
six frames that convert arguments (a scalar converts to itself); ``install_direct_resolvers`` gives graphql-core a
resolver that builds the same ``Info`` and calls the function the same way (the source as ``self``, ``info`` and
the arguments by their Python names). graphql-core still handles what it returns
(values, awaitables, exceptions) as before.

The *deadline*: ``asyncio.timeout`` only stops an operation at an ``await``, and CPU-bound completion (thousands
of fields from records already loaded) never awaits. So the executor reads a monotonic clock every
``CHECK_EVERY`` fields (a counter decrement on the others); past ``timeout`` seconds from the start it stops
executing fields, and the operation's result is one TIMEOUT error with no data.
"""

from __future__ import annotations

import enum
import operator
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLEnumType,
    GraphQLError,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.scalars import ID
from strawberry.schema.schema import Schema, StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.field import StrawberryField

from api.graphql.internals import InfoFactory, core_schema, exception_handlers_of, info_factory, is_default_resolver

LeafPlan = tuple[Callable[[Any], Any], Callable[[Any], Any]]
"""How a plain leaf field reads its value from the source object, and its type's output coercion."""


def leaf_plans(schema: GraphQLSchema) -> dict[tuple[str, str], LeafPlan]:
    """Every plain leaf field of ``schema``, by (object type, field name)."""
    plans: dict[tuple[str, str], LeafPlan] = {}
    for type_name, named in schema.type_map.items():
        if not isinstance(named, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            leaf = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            plain = is_default_resolver(field.resolve) and not field.args
            if plain and isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
                plans[(type_name, field_name)] = (field_reader(field.resolve, field.extensions), output_coercion(leaf))
    return plans


def output_coercion(leaf: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """``leaf.coerce_output_value``, with a table for the members of a strawberry enum: strawberry's enum type
    compares the member with each of the type's values in turn; the table holds what it answers for each member
    (worked out by asking it), and anything else still asks it."""
    coerce = leaf.coerce_output_value
    wrapped = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not isinstance(wrapped, type) or not issubclass(wrapped, enum.Enum):
        return coerce
    names: dict[Any, Any] = {}
    for member in wrapped:
        try:
            names[member] = coerce(member)
        except Exception:  # noqa: S112  (a member the type refuses: asked again, and refused, at run time)
            continue
    named = names.get

    def coerce_member(value: Any) -> Any:
        if value.__class__ is wrapped:
            name = named(value)
            if name is not None:
                return name
        return coerce(value)

    ENUM_TABLES[coerce_member] = (wrapped, names)
    return coerce_member


ENUM_TABLES: weakref.WeakKeyDictionary[Callable[[Any], Any], tuple[type[enum.Enum], dict[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)
"""Each enum coercion ``output_coercion`` made (while it lives) -> its enum class and table (the compiled plans
read the table inline)."""


def field_reader(resolve: Any, extensions: Mapping[str, Any]) -> Callable[[Any], Any]:
    """What strawberry's default resolver does for the field: ``getattr(source, python_name)`` with the default
    configuration (as a C-level ``attrgetter``), else the configured resolver."""
    definition = extensions.get("strawberry-definition")
    if isinstance(definition, StrawberryField) and definition.default_resolver is getattr:
        return operator.attrgetter(definition.python_name)
    return lambda source: resolve(source, None)


def install_direct_resolvers(schema: Schema) -> list[tuple[str, str]]:
    """Give every plain resolver field of ``schema`` a direct resolver; returns the (type, field) pairs changed.

    Changes nothing if this strawberry cannot say which fields have exception handlers."""
    handlers = exception_handlers_of(schema)
    if handlers is None:
        return []
    changed: list[tuple[str, str]] = []
    for type_name, named in core_schema(schema).type_map.items():
        if not isinstance(named, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            definition = field.extensions.get("strawberry-definition")
            if not isinstance(definition, StrawberryField) or handlers(definition):
                continue
            direct = _direct_resolver(definition, info_factory(schema.config.info_class), schema.config.name_converter)
            if direct is not None:
                field.resolve = direct
                changed.append((type_name, field_name))
    return changed


SCALAR_ARGUMENTS = (int, str, bool, float, ID)
"""Argument types strawberry passes to the resolver as graphql-core coerced them (``convert_argument`` returns a
scalar's value unchanged, and None as None)."""


def _scalar_arguments(field: StrawberryField, names: Any) -> list[tuple[str, str]] | None:
    """(GraphQL name, Python name) of each argument when all are built-in scalars, optional or not; else None."""
    pairs = []
    for argument in field.arguments:
        kind = argument.type
        if isinstance(kind, StrawberryOptional):
            kind = kind.of_type
        if isinstance(argument.type, StrawberryMaybe) or kind not in SCALAR_ARGUMENTS or argument.python_name is None:
            return None
        pairs.append((names.from_argument(argument), argument.python_name))
    return pairs


def _direct_resolver(field: StrawberryField, make_info: InfoFactory, names: Any = None) -> Callable[..., Any] | None:
    """What strawberry's resolver does for a plain resolver field: the function called with the source (as
    ``self``, ``root`` or ``parent``, as it asks), its scalar arguments by their Python names (those the request
    or a default gave) and a strawberry ``Info``; None when the field is not plain."""
    resolver = field.base_resolver
    if resolver is None or field.extensions or not callable(resolver.wrapped_func):
        return None
    arguments = _scalar_arguments(field, names) if field.arguments and names is not None else []
    if arguments is None or (field.arguments and not arguments):
        return None
    function = resolver.wrapped_func
    takes_self = resolver.self_parameter is not None
    sources = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None

    if arguments:

        def resolve_arguments(source: Any, info: Any, **given: Any) -> Any:
            kwargs = {python: given[name] for name, python in arguments if name in given}
            for parameter in sources:
                kwargs[parameter] = source
            if info_name is not None:
                kwargs[info_name] = make_info(info, field)
            return function(source, **kwargs) if takes_self else function(**kwargs)

        return resolve_arguments

    if takes_self and not sources and info_name == "info":

        def resolve_self_info(source: Any, info: Any, **_: Any) -> Any:
            return function(source, info=make_info(info, field))

        SELF_INFO_CALLS[resolve_self_info] = (function, make_info, field)
        return resolve_self_info

    def resolve(source: Any, info: Any, **_: Any) -> Any:
        kwargs = dict.fromkeys(sources, source)
        if info_name is not None:
            kwargs[info_name] = make_info(info, field)
        return function(source, **kwargs) if takes_self else function(**kwargs)

    return resolve


SELF_INFO_CALLS: weakref.WeakKeyDictionary[
    Callable[..., Any], tuple[Callable[..., Any], InfoFactory, StrawberryField]
] = weakref.WeakKeyDictionary()
"""Each direct resolver of the form ``function(source, info=make_info(info, field))`` (while it lives) ->
(function, make_info, field): the compiled plans make that call inline."""


CHECK_EVERY = 64
"""Fields executed between two readings of the clock (one reading costs about as much as a plain leaf field)."""


class ExecutionTimedOut(GraphQLError):
    """Raised at a field once the deadline has passed; the operation then answers this error alone."""

    def __init__(self, timeout: float) -> None:
        super().__init__(
            f"the operation took longer than {timeout:g} s and was stopped: ask for less",
            extensions={"code": "TIMEOUT"},
        )


def execution_context_for(
    schema: GraphQLSchema,
    *,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    check_every: int = CHECK_EVERY,
) -> type[StrawberryGraphQLCoreExecutionContext]:
    """The execution context class for ``schema``, with its plain leaf fields worked out, stopping each operation
    ``timeout`` seconds (of ``clock``) after it starts."""
    plans = leaf_plans(schema)

    class LeafShortcutExecutionContext(StrawberryGraphQLCoreExecutionContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.deadline = None if timeout is None else clock() + timeout
            self.countdown = 0  # the first field reads the clock
            self.timed_out = False

        def past_deadline(self) -> bool:
            if self.timed_out:
                return True
            self.countdown = check_every
            self.timed_out = self.deadline is not None and clock() >= self.deadline
            return self.timed_out

        def build_response(self, data: dict[str, Any] | None) -> Any:
            response = super().build_response(data)
            if self.timed_out:  # whatever the fields stopped made of it: the one error
                assert timeout is not None
                return ExecutionResult(None, [ExecutionTimedOut(timeout)])
            return response

        def execute_field(
            self,
            parent_type: GraphQLObjectType,
            source: Any,
            field_details_list: FieldDetailsList,
            path: Path,
            position_context: Any,
        ) -> Any:
            self.countdown -= 1
            if self.countdown <= 0 and self.past_deadline():
                assert timeout is not None
                raise ExecutionTimedOut(timeout)
            plan = plans.get((parent_type.name, field_details_list[0].node.name.value))
            if plan is not None:
                read, coerce = plan
                try:
                    value = read(source)
                except Exception:  # the ordinary path reads it again and reports it, located at this field
                    value = None
                if value is not None and not isinstance(value, Exception):
                    try:
                        coerced = coerce(value)
                    except Exception:  # the ordinary path reports it, located at this field
                        coerced = None
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            return super().execute_field(parent_type, source, field_details_list, path, position_context)

    return LeafShortcutExecutionContext
