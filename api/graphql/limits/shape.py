"""The shape of a document with its fragments spread out, worked out in linear time and refused before any of
graphql-core's rules run (some of which are quadratic, or exponential, in the spread-out document).

First pass: a fragment is walked once; what it adds (selections, aliases, depth) is kept and counted again, by
arithmetic, at every spread of it. So `{ ...F29 }` where each `Fi` spreads `F(i-1)` twice is known to hold 2^29
selections after 30 small steps, and refused. Only then, the spread-out document being known to be small, the
second pass walks it spread out, merging the fields that answer under one name (as graphql-core's
OverlappingFieldsCanBeMerged does, which compares every pair of them, recursively). The limits:

- ``max_selections``: selections (fields, spreads, inline fragments) in the document with fragments spread out.
  Without fragments a document within the token limit holds fewer than it has tokens: fragments may shorten a
  document but not multiply it.
- ``max_aliases``: aliases in an operation, fragments spread out (an alias in a fragment spread ten times counts
  ten times).
- ``max_depth``: field levels (`{ a { b } }` is 2), introspection roots with their own limit.
- ``max_spreads``: distinct fragments spread into one selection set (the overlap rule compares every pair).
- ``max_same_name``: fields answering under one response path, once fragments are spread out and the
  sub-selections of same-named fields merged (`{ a { b } a { b } }` has two `a` and two `a.b`).
Every fragment must be used and none may spread itself, directly or not (as graphql-core requires): an unused
one would be checked by graphql-core's rules but not here, and the spread-out walk of a cyclic document explores
every path through the cycle (exponentially many). An unknown fragment counts as nothing here
(KnownFragmentNamesRule reports it).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from api.graphql.limits.characters import clip

INTROSPECTION_ROOTS = ("__schema", "__type")
INTROSPECTION_MAX_DEPTH = 15
"""The standard introspection query (GraphiQL's schema fetch) is 15 levels deep; `__schema`/`__type` get that much
(or `max_query_depth`, if larger) and no more."""
MAX_SAME_NAME = 16
MAX_SPREADS = 20
MAX_NESTING = 150
"""Selection sets and spreads nested deeper than this are refused outright (the walks recurse)."""
NAMED = 3
"""An error names at most this many fragments."""


@dataclass(frozen=True)
class ShapeLimits:
    max_selections: int
    max_aliases: int
    max_depth: int
    max_same_name: int = MAX_SAME_NAME
    max_spreads: int = MAX_SPREADS


@dataclass
class Shape:
    """A selection set with its fragments spread out: ``depth`` counts field levels (introspection roots apart)."""

    selections: int = 0
    aliases: int = 0
    depth: int = 0
    introspection_depth: int = 0


class TooComplex(Exception):
    def __init__(self, message: str, code: str = "QUERY_TOO_COMPLEX") -> None:
        super().__init__(message)
        self.message, self.code = message, code


def shape_error(document: DocumentNode, limits: ShapeLimits) -> GraphQLError | None:
    """The first limit ``document`` passes, as one error (QUERY_TOO_COMPLEX); None when it keeps them all."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    counts = _Counts(document, limits)
    try:
        for operation in operations:
            counts.operation(operation)
        unused = [name for name in counts.fragments if name not in counts.memo]
        if unused:
            names = ", ".join(f"'{clip(n)}'" for n in unused[:NAMED])
            more = f" ({len(unused)} in all)" if len(unused) > NAMED else ""
            raise TooComplex(f"Fragments never used: {names}{more}.", "GRAPHQL_VALIDATION_FAILED")
        merge = _Merge(counts.fragments, limits.max_same_name)
        for operation in operations:
            merge.check([operation.selection_set])
    except TooComplex as refused:
        return GraphQLError(refused.message, extensions={"code": refused.code})
    except RecursionError:
        return GraphQLError("the document is nested too deeply", extensions={"code": "QUERY_TOO_COMPLEX"})
    return None


class _Counts:
    """The first pass: counts with multiplicity, each fragment walked once."""

    def __init__(self, document: DocumentNode, limits: ShapeLimits) -> None:
        self.limits = limits
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.memo: dict[str, Shape] = {}
        self.active: set[str] = set()
        self.nesting = 0
        self.selections = 0  # the document's, every operation's added up

    def operation(self, node: OperationDefinitionNode) -> None:
        shape = self.selection_set(node.selection_set)
        self.selections += shape.selections
        self.check(shape, self.selections)
        introspection_limit = max(self.limits.max_depth, INTROSPECTION_MAX_DEPTH)
        for depth, limit in ((shape.depth, self.limits.max_depth), (shape.introspection_depth, introspection_limit)):
            if depth > limit:
                name = node.name.value if node.name else "the operation"
                raise TooComplex(f"'{clip(name)}' exceeds maximum operation depth of {limit}")

    def fragment(self, name: str) -> Shape:
        found = self.memo.get(name)
        if found is not None:
            return found
        definition = self.fragments.get(name)
        if definition is None:  # unknown: KnownFragmentNamesRule reports it
            return Shape()
        if name in self.active:
            raise TooComplex(f"Cannot spread fragment '{clip(name)}' within itself.", "GRAPHQL_VALIDATION_FAILED")
        self.active.add(name)
        try:
            shape = self.memo[name] = self.selection_set(definition.selection_set)
        finally:
            self.active.discard(name)
        return shape

    def selection_set(self, node: SelectionSetNode) -> Shape:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise TooComplex("the document is nested too deeply")
        try:
            shape = Shape()
            spreads: set[str] = set()
            self.collect(node, shape, spreads)
        finally:
            self.nesting -= 1
        if len(spreads) > self.limits.max_spreads:
            raise TooComplex(f"a selection spreads more than {self.limits.max_spreads} fragments")
        return shape

    def collect(self, node: SelectionSetNode, shape: Shape, spreads: set[str]) -> None:
        """Adds the selections of ``node`` to ``shape`` (inline fragments and spreads are at the same level)."""
        for selection in node.selections:
            shape.selections += 1
            if isinstance(selection, FieldNode):
                shape.aliases += selection.alias is not None
                below = self.selection_set(selection.selection_set) if selection.selection_set else Shape()
                shape.selections += below.selections
                shape.aliases += below.aliases
                levels = 1 + max(below.depth, below.introspection_depth)
                if selection.name.value in INTROSPECTION_ROOTS:
                    shape.introspection_depth = max(shape.introspection_depth, levels)
                else:
                    shape.depth = max(shape.depth, levels)
            elif isinstance(selection, InlineFragmentNode):
                self.collect(selection.selection_set, shape, spreads)
            elif isinstance(selection, FragmentSpreadNode):
                spreads.add(selection.name.value)
                spread = self.fragment(selection.name.value)
                shape.selections += spread.selections
                shape.aliases += spread.aliases
                shape.depth = max(shape.depth, spread.depth)
                shape.introspection_depth = max(shape.introspection_depth, spread.introspection_depth)
            self.check(shape, shape.selections)

    def check(self, shape: Shape, selections: int) -> None:
        if selections > self.limits.max_selections:
            raise TooComplex(
                f"the document makes more than {self.limits.max_selections} selections once its fragments are "
                "spread out"
            )
        if shape.aliases > self.limits.max_aliases:
            raise TooComplex(f"the document uses more than {self.limits.max_aliases} aliases")


class _Merge:
    """The second pass, over the spread-out document (known to be small, and free of cycles): the fields answering
    under each response path, the sub-selections of same-named fields merged."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], max_same_name: int) -> None:
        self.fragments, self.max_same_name = fragments, max_same_name

    def check(self, sets: list[SelectionSetNode]) -> None:
        pending = [sets]
        while pending:
            groups: dict[str, list[SelectionSetNode | None]] = {}
            for selection_set in pending.pop():
                self.gather(selection_set, groups)
            for name, children in groups.items():
                if len(children) > self.max_same_name:
                    raise TooComplex(
                        f"more than {self.max_same_name} fields answer as '{clip(name)}' in one selection, "
                        "fragments spread out"
                    )
                below = [c for c in children if c is not None]
                if below:
                    pending.append(below)

    def gather(self, node: SelectionSetNode, groups: dict[str, list[SelectionSetNode | None]]) -> None:
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                response = selection.alias.value if selection.alias else selection.name.value
                groups.setdefault(response, []).append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                self.gather(selection.selection_set, groups)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None:
                    self.gather(fragment.selection_set, groups)
