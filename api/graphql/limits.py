"""What a request may ask for, checked on the parsed document before any resolver runs.

- Validation rules (classes built once per schema, so the validation cache keeps hitting): depth (every field
  level counts, introspection included), directive count, and string literals PostgreSQL cannot store.
- Variables: the same character check on every string (keys included), naming the variable path at fault.
- Cost: an estimate of the resolver calls the operation can trigger, multiplying through lists: a field with a
  `first` argument multiplies its sub-selection (or, for a connection, its `edges`/`nodes`) by `first` (the
  argument's default when omitted, capped at ``MAX_PAGE``); any other list multiplies by ``DEFAULT_LIST_SIZE``.
  An operation above ``Settings.max_query_cost`` is refused with QUERY_TOO_COSTLY; the figure is returned in
  ``extensions.cost`` when the request's ``extensions`` carry ``"cost": true``.
"""

from __future__ import annotations

import functools
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any, Generic, TypeVar, cast

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
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
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    VariableNode,
    Visitor,
    get_named_type,
    validate,
    visit,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from strawberry.extensions import SchemaExtension

MAX_PAGE = 100
"""The largest page any connection or nested list serves (relay_max_results, `Case.reports(first)`)."""
DEFAULT_LIST_SIZE = 10
"""What a list without a `first` argument counts for (strikes, actions, versions, roles, batch results...)."""
SHOWN_PREFIX = 40
"""Error messages quote at most this many characters of anything the client sent."""


_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> bool:
    """NUL (PostgreSQL text cannot hold it) or a lone surrogate (not encodable as UTF-8)."""
    return _UNSTORABLE_CHARACTER.search(text) is not None


def clip(text: str, limit: int = SHOWN_PREFIX) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class InvalidInput(GraphQLError):
    """A request-level refusal naming the input at fault; nothing ran."""

    def __init__(self, message: str, field: str, node: Any = None) -> None:
        super().__init__(message, node, extensions={"code": "INVALID_INPUT", "field": field})


def unstorable_variable(variables: Mapping[str, Any] | None, max_depth: int) -> InvalidInput | None:
    """The first string in ``variables`` (keys included) that PostgreSQL could not store, as an error naming it."""
    stack: list[tuple[str, Any, int]] = [(f"${name}", value, 1) for name, value in (variables or {}).items()]
    while stack:
        path, value, depth = stack.pop()
        if depth > max_depth:
            return InvalidInput(f"`{clip(path)}` is nested deeper than {max_depth} levels", path)
        if isinstance(value, str):
            if unstorable(value):
                return InvalidInput(_UNSTORABLE.format(clip(path, 80)), path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and unstorable(key):
                    return InvalidInput(_UNSTORABLE.format(clip(path, 80)), path)
                stack.append((f"{path}.{key}", item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return None


_UNSTORABLE = "`{}` contains a NUL character or an unpaired surrogate, which cannot be stored"


def literal_characters_rule() -> type[ASTValidationRule]:
    class UnstorableLiterals(ASTValidationRule):
        """String literals in the document must be storable (refused before any SQL, as for variables)."""

        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            if unstorable(node.value):
                self.report_error(InvalidInput(_UNSTORABLE.format("a string literal"), "literal", node))

    return UnstorableLiterals


def count_directives(document: DocumentNode) -> int:
    class Counter(Visitor):
        count = 0

        def enter_directive(self, *_: Any) -> None:
            self.count += 1

    counter = Counter()
    visit(document, counter)
    return counter.count


INTROSPECTION_ROOTS = ("__schema", "__type")
INTROSPECTION_MAX_COST = 250_000
"""Introspection (development only: production refuses it) has its own budget: its lists are counted at their
real size in the schema, which puts the standard introspection query near 150,000 resolver calls."""
INTROSPECTION_MAX_DEPTH = 15
"""The standard introspection query (GraphiQL's schema fetch) is 15 levels deep; `__schema`/`__type` get that much
(or `max_query_depth`, if larger) and no more."""


def depth_rule(max_depth: int) -> type[ASTValidationRule]:
    class DepthLimit(ASTValidationRule):
        """``{ a { b } }`` is 2 levels deep; every field counts, introspection fields included (their own limit)."""

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            context = cast(ValidationContext, self.context)
            memo: dict[str, int] = {}
            for field in _root_fields(node.selection_set, context, frozenset()):
                introspection = field.name.value in INTROSPECTION_ROOTS
                limit = max(max_depth, INTROSPECTION_MAX_DEPTH) if introspection else max_depth
                if 1 + _depth(field.selection_set, context, memo, frozenset()) > limit:
                    name = node.name.value if node.name else "the operation"
                    self.report_error(
                        GraphQLError(
                            f"'{clip(name)}' exceeds maximum operation depth of {limit}",
                            node,
                            extensions={"code": "QUERY_TOO_COMPLEX"},
                        )
                    )
                    return

    return DepthLimit


def _root_fields(
    selection_set: SelectionSetNode, context: ValidationContext, seen: frozenset[str]
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, context, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is not None and name not in seen:
                yield from _root_fields(fragment.selection_set, context, seen | {name})


def _depth(selection_set: SelectionSetNode | None, context: ValidationContext, memo: dict[str, int], seen: Any) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection.selection_set, context, memo, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, context, memo, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in memo:
                fragment = context.get_fragment(name)
                if fragment is None or name in seen:  # unknown or cyclic: other rules report it
                    memo[name] = 0
                else:
                    memo[name] = _depth(fragment.selection_set, context, memo, seen | {name})
            deepest = max(deepest, memo[name])
    return deepest


T = TypeVar("T")


class DocumentCache(Generic[T]):
    """Values worked out from a parsed document, found by the document's identity: the parser cache hands back
    the same object for the same query text, and hashing a document (a frozen dataclass) walks every node of it
    on every look-up. Holds up to ``size`` documents, least recently used out, each kept alive while it is held
    (so its ``id`` cannot be reused), and up to ``per_document`` values for each. One event loop per process
    uses it: nothing awaits inside."""

    def __init__(self, size: int = 256, per_document: int = 64) -> None:
        self._entries: OrderedDict[int, tuple[DocumentNode, dict[Hashable, T]]] = OrderedDict()
        self._size, self._per_document = size, per_document
        self.hits = self.misses = 0

    def get(self, document: DocumentNode, key: Hashable, compute: Callable[[], T]) -> T:
        entry = self._entries.get(id(document))
        if entry is None or entry[0] is not document:
            entry = self._entries[id(document)] = (document, {})
            self._entries.move_to_end(id(document))
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(id(document))
        values = entry[1]
        if key in values:
            self.hits += 1
            return values[key]
        self.misses += 1
        if len(values) >= self._per_document:
            values.clear()
        value = values[key] = compute()
        return value


class Validator:
    """The one validation function of a schema, cached per parsed document (``DocumentCache``). A document with
    more than ``max_directives`` directives gets that one error, not one per directive."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: tuple[type[ASTValidationRule], ...],
        *,
        hide_suggestions: bool,
        max_errors: int,
        max_directives: int,
    ) -> None:
        self.schema, self.rules = schema, rules
        self.hide_suggestions, self.max_errors, self.max_directives = hide_suggestions, max_errors, max_directives
        self.cache: DocumentCache[list[GraphQLError]] = DocumentCache()

    def __call__(self, document: DocumentNode) -> list[GraphQLError]:
        return self.cache.get(document, None, lambda: self.check(document))

    def check(self, document: DocumentNode) -> list[GraphQLError]:
        if count_directives(document) > self.max_directives:
            message = f"the document uses more than {self.max_directives} directives"
            return [GraphQLError(message, extensions={"code": "QUERY_TOO_COMPLEX"})]
        return validate(
            self.schema, document, self.rules, max_errors=self.max_errors, hide_suggestions=self.hide_suggestions
        )


# --- cost ----------------------------------------------------------------------------------------------------------


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
            multiplier = introspection_sizes(self.schema).get((parent.name, node.name.value), DEFAULT_LIST_SIZE)
        else:
            multiplier = 1
        return 1 + multiplier * self.selection(child, node.selection_set, None, seen)

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


def cost_variables(variables: Mapping[str, Any] | None) -> tuple[tuple[str, int], ...]:
    """What of the variables the cost depends on: only integers count (a `first` given any other way counts as
    ``MAX_PAGE``, as an absent one does), so two requests with the same integers cost the same."""
    return tuple((k, v) for k, v in (variables or {}).items() if isinstance(v, int) and not isinstance(v, bool))


class RequestLimits(SchemaExtension):
    """Validation (cached, rules built once), then before execution: variables' characters and the cost."""

    def __init__(
        self,
        *,
        validate_document: Callable[[DocumentNode], list[GraphQLError]],
        max_cost: int,
        max_json_depth: int,
        costs: DocumentCache[tuple[int, int]] | None = None,
    ) -> None:
        self.validate_document = validate_document
        self.max_cost = max_cost
        self.max_json_depth = max_json_depth
        self.costs = costs if costs is not None else DocumentCache()
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            context.pre_execution_errors = list(self.validate_document(context.graphql_document))
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        problem = unstorable_variable(context.variables, self.max_json_depth)
        if problem is not None:
            raise problem
        assert context.graphql_document is not None
        schema, document, name, variables = (
            context.schema._schema,
            context.graphql_document,
            context.operation_name,
            context.variables,
        )

        def both() -> tuple[int, int]:
            return (
                operation_cost(schema, document, name, variables),
                operation_cost(schema, document, name, variables, introspection=True),
            )

        self.cost, introspection = self.costs.get(document, (name, cost_variables(variables)), both)
        if introspection > INTROSPECTION_MAX_COST:
            raise GraphQLError(
                f"the introspection costs {introspection}, above its limit of {INTROSPECTION_MAX_COST}",
                extensions={"code": "QUERY_TOO_COSTLY", "cost": introspection, "maxCost": INTROSPECTION_MAX_COST},
            )
        if self.cost > self.max_cost:
            raise GraphQLError(
                f"the operation costs {self.cost}, above the limit of {self.max_cost}: ask for smaller pages "
                "(`first`) or fewer nested lists",
                extensions={"code": "QUERY_TOO_COSTLY", "cost": self.cost, "maxCost": self.max_cost},
            )
        yield

    def get_results(self) -> dict[str, Any]:
        asked = (self.execution_context.operation_extensions or {}).get("cost") is True
        if asked and self.cost is not None:
            return {"cost": {"requested": self.cost, "maximum": self.max_cost}}
        return {}
