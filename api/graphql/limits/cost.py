"""The cost of an operation: an estimate of the resolver calls it can trigger, multiplying through lists.

A field costs 1, plus its sub-selection once per item it can return (``lists.LIST_SIZES``): a field with a
`first` argument multiplies its sub-selection (or, for a connection, its `edges`/`nodes`) by `first` (the
argument's default when omitted, capped at ``MAX_PAGE``); `nodes(ids:)` by the number of ids given (the list's
length, literal or variable; ``MAX_NODES`` when unknown); any other list of objects by its declared maximum.
Walked once per fragment, parent type and page (memoised), so linear in the document.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_introspection_query,
    get_named_type,
    parse,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef

from api.graphql.limits.lists import DEFAULT_LIST_SIZE, MAX_PAGE, ListSize, declared_size
from api.graphql.limits.shape import INTROSPECTION_ROOTS

INTROSPECTION_MAX_COST = 250_000
"""Introspection (development only: production refuses it) has its own budget, at least this: its lists are
counted at their real size in the schema, which puts the standard introspection query (which grows with the
schema) above 250,000 resolver calls; ``introspection_max_cost`` leaves room for it twice over."""


class CostEstimator:
    """``introspection=False`` counts the operation but its `__schema`/`__type` fields; ``True`` counts only those."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        *,
        introspection: bool = False,
    ) -> None:
        self.schema = schema
        self.introspection = introspection
        self.variables = variables or {}
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.memo: dict[tuple[str, str, int | None], int] = {}

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self.selection(root, operation.selection_set, None, frozenset())

    def selection(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode, page: int | None, seen: frozenset[str]
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, page, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                typed = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection(typed or parent, selection.selection_set, page, seen)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(parent, selection.name.value, page, seen)
        return total

    def spread(self, parent: GraphQLNamedType, name: str, page: int | None, seen: frozenset[str]) -> int:
        key = (name, parent.name, page)
        if key not in self.memo:
            fragment = self.fragments.get(name)
            if fragment is None or name in seen:
                self.memo[key] = 0
            else:
                typed = self.schema.get_type(fragment.type_condition.name.value) or parent
                self.memo[key] = self.selection(typed, fragment.selection_set, page, seen | {name})
        return self.memo[key]

    def field(self, parent: GraphQLNamedType, node: FieldNode, page: int | None, seen: frozenset[str]) -> int:
        if parent is self.schema.query_type and (node.name.value in INTROSPECTION_ROOTS) != self.introspection:
            return 0
        definition = _field(self.schema, parent, node.name.value)
        if definition is None or node.selection_set is None:
            return 1
        child = get_named_type(definition.type)
        size = self.first(definition, node)
        if size is not None and isinstance(child, GraphQLObjectType) and "edges" in child.fields:
            # a connection: its edges and nodes are the page, pageInfo is one object
            return 1 + self.selection(child, node.selection_set, size, seen)
        if page is not None and node.name.value in ("edges", "nodes"):
            multiplier = page
        elif size is not None:
            multiplier = size
        elif _is_list(definition.type):
            multiplier = self.list_size(parent, node)
        else:
            multiplier = 1
        return 1 + multiplier * self.selection(child, node.selection_set, None, seen)

    def list_size(self, parent: GraphQLNamedType, node: FieldNode) -> int:
        key = (parent.name, node.name.value)
        introspection = introspection_sizes(self.schema).get(key)
        if introspection is not None:
            return introspection
        declared = declared_size(*key)
        if declared is None:
            return DEFAULT_LIST_SIZE
        if declared.argument is None:
            return declared.maximum
        return min(declared.maximum, self.length(node, declared))

    def length(self, node: FieldNode, declared: ListSize) -> int:
        """How many items the list argument holds: a literal's or a variable's length (one for a single value,
        which GraphQL coerces to a list of one), ``declared.maximum`` when unknown."""
        for given in node.arguments or ():
            if given.name.value != declared.argument:
                continue
            value: Any = given.value
            if isinstance(value, VariableNode):
                value = self.variables.get(value.name.value)
                return len(value) if isinstance(value, list) else 1 if value is not None else declared.maximum
            return len(value.values) if isinstance(value, ListValueNode) else 1
        return declared.maximum

    def first(self, definition: GraphQLField, node: FieldNode) -> int | None:
        argument = definition.args.get("first")
        if argument is None:
            return None
        value: Any = argument.default_value
        for given in node.arguments or ():
            if given.name.value != "first":
                continue
            if isinstance(given.value, IntValueNode):
                value = int(given.value.value)
            elif isinstance(given.value, VariableNode):
                value = self.variables.get(given.value.name.value, MAX_PAGE)
        if not isinstance(value, int) or isinstance(value, bool):
            return MAX_PAGE
        return max(0, min(value, MAX_PAGE))


@functools.cache
def introspection_max_cost(schema: GraphQLSchema) -> int:
    """The introspection budget of ``schema``: twice its fullest standard introspection query (GraphiQL's schema
    fetch, every option on), and at least ``INTROSPECTION_MAX_COST``."""
    options = {
        "descriptions": True,
        "specified_by_url": True,
        "directive_is_repeatable": True,
        "schema_description": True,
        "input_value_deprecation": True,
        "one_of": True,
    }
    standard = parse(get_introspection_query(**options))
    return max(INTROSPECTION_MAX_COST, 2 * operation_cost(schema, standard, None, None, introspection=True))


@functools.cache
def introspection_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], int]:
    """The lists of introspection, counted at their real (average) size in this schema: the standard introspection
    query then costs what it does (a few thousand), and `types { fields { type { fields ... } } }` still
    multiplies out."""
    types = list(schema.type_map.values())
    composite = [t for t in types if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)]
    inputs = [t for t in types if isinstance(t, GraphQLInputObjectType)]
    enums = [t for t in types if isinstance(t, GraphQLEnumType)]
    abstract = [t for t in types if isinstance(t, GraphQLInterfaceType | GraphQLUnionType)]
    fields = [f for t in composite for f in t.fields.values()]

    def average(counts: list[int]) -> int:
        return max(1, math.ceil(sum(counts) / len(counts))) if counts else 1

    return {
        ("__Schema", "types"): len(types),
        ("__Schema", "directives"): len(schema.directives),
        ("__Type", "fields"): average([len(t.fields) for t in composite]),
        ("__Type", "inputFields"): average([len(t.fields) for t in inputs]),
        ("__Type", "enumValues"): average([len(t.values) for t in enums]),
        ("__Type", "interfaces"): average([len(t.interfaces) for t in composite]),
        ("__Type", "possibleTypes"): average([len(schema.get_possible_types(t)) for t in abstract]),
        ("__Field", "args"): average([len(f.args) for f in fields]),
        ("__Directive", "args"): average([len(d.args) for d in schema.directives]),
    }


def _field(schema: GraphQLSchema, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if name == "__typename":
        return TypeNameMetaFieldDef
    if parent is schema.query_type and name in ("__schema", "__type"):
        return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    introspection: bool = False,
) -> int:
    """The operation's cost without its introspection fields, or (``introspection=True``) theirs alone."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    estimator = CostEstimator(schema, document, variables, introspection=introspection)
    return max((estimator.operation(o) for o in chosen), default=0)


def cost_variables(variables: Mapping[str, Any] | None) -> tuple[tuple[str, int] | tuple[str, str, int], ...]:
    """What of the variables the cost depends on: integers (a `first` given any other way counts as ``MAX_PAGE``,
    as an absent one does) and the lengths of lists (`nodes(ids: $ids)`), so two requests with the same of
    these cost the same."""
    kept: list[tuple[str, int] | tuple[str, str, int]] = []
    for name, value in (variables or {}).items():
        if isinstance(value, int) and not isinstance(value, bool):
            kept.append((name, value))
        elif isinstance(value, list):
            kept.append((name, "length", len(value)))
    return tuple(kept)
