"""graphql-core's executor with a shortcut for plain leaf fields.

A console page completes ~2,800 fields, most of them plain attributes of records already loaded (`state`,
`priority`, `handle`, `source`, `verdict`, ...). For each one graphql-core builds a resolve-info object, checks for
arguments and awaitables and walks ``complete_value`` to reach ``coerce_output_value``: several microseconds
each, a quarter of a page's CPU. A *plain leaf field* has strawberry's default resolver (no resolver of ours, no
permission class, no field extension), no arguments, and a scalar or enum type; for it the shortcut reads the
attribute and coerces it directly.

The shortcut only answers when the answer is the ordinary one: a value that is present and coerces to something
present. A null, an exception or a value the type refuses takes the ordinary path, which makes the error exactly
as before (the attribute is read again: it is a plain read). Which fields qualify is worked out once per schema.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

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
            plain = getattr(field.resolve, "_is_default", False) and not field.args
            if plain and isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
                plans[(type_name, field_name)] = (_reader(field.resolve, field.extensions), leaf.coerce_output_value)
    return plans


def _reader(resolve: Any, extensions: Mapping[str, Any]) -> Callable[[Any], Any]:
    """What strawberry's default resolver does for the field: ``getattr(source, python_name)`` with the default
    configuration (as a C-level ``attrgetter``), else the configured resolver."""
    definition = extensions.get("strawberry-definition")
    if isinstance(definition, StrawberryField) and definition.default_resolver is getattr:
        return operator.attrgetter(definition.python_name)
    return lambda source: resolve(source, None)


def execution_context_for(schema: GraphQLSchema) -> type[StrawberryGraphQLCoreExecutionContext]:
    """The execution context class for ``schema``, with its plain leaf fields worked out."""
    plans = leaf_plans(schema)

    class LeafShortcutExecutionContext(StrawberryGraphQLCoreExecutionContext):
        def execute_field(
            self,
            parent_type: GraphQLObjectType,
            source: Any,
            field_details_list: FieldDetailsList,
            path: Path,
            position_context: Any,
        ) -> Any:
            plan = plans.get((parent_type.name, field_details_list[0].node.name.value))
            if plan is not None:
                read, coerce = plan
                value = read(source)
                if value is not None and not isinstance(value, Exception):
                    try:
                        coerced = coerce(value)
                    except Exception:  # the ordinary path reports it, located at this field
                        coerced = None
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            return super().execute_field(parent_type, source, field_details_list, path, position_context)

    return LeafShortcutExecutionContext
