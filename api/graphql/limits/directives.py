"""Directives, checked in one linear pass before graphql-core's rules: too many, unknown ones, or a
non-repeatable one repeated at a location give ONE error however many there are (graphql-core's rules give one
per directive: "directive overloading")."""

from __future__ import annotations

from typing import Any

from graphql import DirectiveNode, DocumentNode, GraphQLError, GraphQLSchema, Node, Visitor, visit

from api.graphql.limits.characters import clip

NAMED = 3
"""An error names at most this many of the directives at fault."""


def count_directives(document: DocumentNode) -> int:
    return _Directives(frozenset(), frozenset()).run(document).count


def directive_error(schema: GraphQLSchema, document: DocumentNode, max_directives: int) -> GraphQLError | None:
    """One error for every directive problem in ``document`` (else None; then graphql-core finds none either)."""
    known = frozenset(d.name for d in schema.directives)
    repeatable = frozenset(d.name for d in schema.directives if d.is_repeatable)
    found = _Directives(known, repeatable).run(document)
    if found.count > max_directives:
        message = f"the document uses more than {max_directives} directives"
        return GraphQLError(message, extensions={"code": "QUERY_TOO_COMPLEX"})
    if found.unknown:
        unknown = list(found.unknown)
        names = ", ".join(f"'@{clip(n)}'" for n in unknown[:NAMED])
        more = f" ({len(unknown)} in all)" if len(unknown) > NAMED else ""
        noun = "directive" if len(unknown) == 1 else "directives"
        return GraphQLError(f"Unknown {noun} {names}{more}.", extensions={"code": "UNKNOWN_DIRECTIVE"})
    if found.repeated:
        names = ", ".join(f"'@{n}'" for n in list(found.repeated)[:NAMED])
        return GraphQLError(
            f"The directive {names} can only be used once at each location.",
            extensions={"code": "REPEATED_DIRECTIVE"},
        )
    return None


class _Directives(Visitor):
    def __init__(self, known: frozenset[str], repeatable: frozenset[str]) -> None:
        super().__init__()
        self.known, self.repeatable = known, repeatable
        self.count = 0
        self.unknown: dict[str, None] = {}  # distinct, in order of appearance
        self.repeated: dict[str, None] = {}

    def run(self, document: DocumentNode) -> _Directives:
        visit(document, self)
        return self

    def enter(self, node: Node, *_: Any) -> None:
        directives: tuple[DirectiveNode, ...] | None = getattr(node, "directives", None)
        if not directives:
            return
        self.count += len(directives)
        if not self.known:
            return
        here: set[str] = set()
        for directive in directives:
            name = directive.name.value
            if name not in self.known:
                self.unknown[name] = None
            elif name in here and name not in self.repeatable:
                self.repeated[name] = None
            here.add(name)
