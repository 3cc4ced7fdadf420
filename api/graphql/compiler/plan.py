"""The plan of one operation: its fields collected at compile time, per selection set and concrete type.

Fields are collected by graphql-core's own ``collect_fields``/``collect_subfields`` (so the grouping, the order and
the merging of fragments are exactly the ordinary ones), under the request's ``@skip``/``@include`` conditions: a
plan holds for every request whose condition variables have the same values (``condition_variables`` names them;
the cache keys on their values). Literal arguments are coerced once here; arguments naming variables are coerced
per request. Abstract types get one selection per possible type, chosen at run time by the type's own
``resolve_type`` (or ``is_type_of``), as graphql-core chooses.

What the plan does not cover makes ``Unsupported``: the request then runs on graphql-core (``fallback_reason``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_fields, collect_subfields
from graphql.execution.values import get_argument_values
from graphql.type.introspection import TypeNameMetaFieldDef

from api.graphql.execution import LeafPlan, field_reader
from api.graphql.internals import is_default_resolver

SKIP_INCLUDE = ("skip", "include")
UNSUPPORTED_DIRECTIVES = ("defer", "stream", "experimental_disableErrorPropagation")


class Unsupported(Exception):
    """The operation uses something the compiler leaves to graphql-core."""


@dataclass(slots=True)
class Completion:
    """How a field's value completes: the type's wrappers down to a leaf, an object or an abstract type."""

    type: GraphQLOutputType
    kind: str  # "non_null" | "list" | "leaf" | "object" | "abstract"
    inner: Completion | None = None
    selection: Selection | None = None  # "object"
    selections: dict[str, Selection] = field(default_factory=dict)  # "abstract": by concrete type name


@dataclass(slots=True)
class FieldPlan:
    response_name: str
    details: FieldDetailsList
    definition: GraphQLField
    kind: str  # "typename" | "leaf" | "resolver" | "generic"
    completion: Completion | None = None
    leaf: LeafPlan | None = None
    reader: Callable[[Any], Any] | None = None  # "resolver" with strawberry's default resolver: read, not called
    arguments: dict[str, Any] | None = None  # coerced once (literals only); None: coerced per request
    dynamic_arguments: bool = False


@dataclass(slots=True)
class Selection:
    type: GraphQLObjectType
    fields: list[FieldPlan]


@dataclass(slots=True)
class OperationPlan:
    operation: OperationDefinitionNode
    root: Selection
    serial: bool
    selections: int = 0


def operation_of(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation graphql-core would run (None: it would answer an error, which it then does)."""
    found = None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if operation_name is None:
                if found is not None:
                    return None
                found = definition
            elif definition.name is not None and definition.name.value == operation_name:
                found = definition
    return found


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for key in current.keys:
            value = getattr(current, key, None)
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, (list, tuple)):
                stack.extend(v for v in value if isinstance(v, Node))


def check_document(document: DocumentNode) -> tuple[str, ...]:
    """Refuse what the compiler leaves to graphql-core; the variables ``@skip``/``@include`` read, in order."""
    names: list[str] = []
    for node in _walk(document):
        if isinstance(node, FragmentDefinitionNode) and node.variable_definitions:
            raise Unsupported("fragment variables")
        if isinstance(node, DirectiveNode):
            name = node.name.value
            if name in UNSUPPORTED_DIRECTIVES:
                raise Unsupported(f"@{name}")
            if name in SKIP_INCLUDE:
                for argument in node.arguments or ():
                    for inner in _walk(argument.value):
                        if isinstance(inner, VariableNode) and inner.name.value not in names:
                            names.append(inner.name.value)
    return tuple(sorted(names))


def _has_variables(node: Any) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, ObjectValueNode):
        return any(_has_variables(f.value) for f in node.fields)
    if isinstance(node, ListValueNode):
        return any(_has_variables(v) for v in node.values)
    return False


def _immutable(value: Any) -> bool:
    return not isinstance(value, (dict, list, set))


class Planner:
    """Builds an ``OperationPlan`` for one operation under one request's variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        executor: Any,
        leaf_plans: dict[tuple[str, str], LeafPlan],
    ) -> None:
        self.schema = schema
        self.executor = executor
        self.leaf_plans = leaf_plans
        self.count = 0

    def plan(self) -> OperationPlan:
        ex = self.executor
        operation: OperationDefinitionNode = ex.operation
        if operation.operation is OperationType.SUBSCRIPTION:
            raise Unsupported("subscriptions")
        root_type = self.schema.get_root_type(operation.operation)
        if root_type is None:
            raise Unsupported("no root type")
        collected = collect_fields(self.schema, ex.fragments, ex.variable_values, root_type, operation)
        root = self._selection(root_type, collected.grouped_field_set)
        serial = operation.operation is OperationType.MUTATION
        return OperationPlan(operation, root, serial, self.count)

    def _selection(self, parent: GraphQLObjectType, grouped: dict[str, FieldDetailsList]) -> Selection:
        self.count += 1
        fields = []
        for response_name, details in grouped.items():
            plan = self._field(parent, response_name, details)
            if plan is not None:
                fields.append(plan)
        return Selection(parent, fields)

    def _field(self, parent: GraphQLObjectType, response_name: str, details: FieldDetailsList) -> FieldPlan | None:
        node = details[0].node
        name = node.name.value
        definition = self.schema.get_field(parent, name)
        if definition is None:
            return None
        if any(d.fragment_variable_values is not None or d.defer_usage is not None for d in details):
            return FieldPlan(response_name, details, definition, "generic")
        if definition is TypeNameMetaFieldDef:
            return FieldPlan(response_name, details, definition, "typename")
        if name.startswith("__"):
            return FieldPlan(response_name, details, definition, "generic")
        leaf = self.leaf_plans.get((parent.name, name))
        if leaf is not None and not node.arguments:
            return FieldPlan(response_name, details, definition, "leaf", leaf=leaf)
        plan = FieldPlan(response_name, details, definition, "resolver")
        plan.completion = self._completion(definition.type, details)
        if is_default_resolver(definition.resolve) and not definition.args and not node.arguments:
            plan.reader = field_reader(definition.resolve, definition.extensions)  # a record's own attribute
        if definition.args or node.arguments:
            if any(_has_variables(a.value) for a in node.arguments or ()):
                plan.dynamic_arguments = True
            else:
                try:
                    arguments = get_argument_values(definition, node, self.executor.variable_values)
                except Exception:
                    plan.dynamic_arguments = True
                else:
                    if all(_immutable(v) for v in arguments.values()):
                        plan.arguments = arguments
                    else:
                        plan.dynamic_arguments = True
        else:
            plan.arguments = {}
        return plan

    def _completion(self, type_: GraphQLOutputType, details: FieldDetailsList) -> Completion:
        if isinstance(type_, GraphQLNonNull):
            return Completion(type_, "non_null", inner=self._completion(type_.of_type, details))
        if isinstance(type_, GraphQLList):
            return Completion(type_, "list", inner=self._completion(type_.of_type, details))
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return Completion(type_, "leaf")
        if isinstance(type_, GraphQLObjectType):
            return Completion(type_, "object", selection=self._subselection(type_, details))
        if isinstance(type_, GraphQLAbstractType):
            completion = Completion(type_, "abstract")
            for possible in self.schema.get_possible_types(type_):
                completion.selections[possible.name] = self._subselection(possible, details)
            return completion
        raise Unsupported(f"output type {type_}")

    def _subselection(self, type_: GraphQLObjectType, details: FieldDetailsList) -> Selection:
        ex = self.executor
        collected = collect_subfields(self.schema, ex.fragments, ex.variable_values, ex.operation, type_, details)
        if collected.new_defer_usages:
            raise Unsupported("@defer")
        return self._selection(type_, collected.grouped_field_set)
