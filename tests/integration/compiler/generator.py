"""Documents generated over the schema (hypothesis): from Query, random fields with valid arguments (literals or
variables), aliases, named fragments (spread once or twice), inline fragments on unions and interfaces, and
``@skip``/``@include`` with literals or variables. A response name is aliased where two fields would conflict, so
nearly every document validates; the harness registers each one and runs only those that do."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    get_named_type,
)
from hypothesis import strategies as st

MAX_DEPTH = 3
MAX_ALIASES = 10
MAX_DIRECTIVES = 8  # counted again at each spread of a fragment: 20 at most in a document
LITERALS = {"String": '"x"', "DateTime": '"2020-01-01T00:00:00Z"', "Date": '"2020-01-01"', "BigInt": "1"}
SKIPPED_FIELDS = {"verifyAuditTrail"}  # re-hashes the whole chain: slow, and tested elsewhere


@dataclass
class Scope:
    """The response names of one selection set: (signature, sub-scope) each, so repeated fields merge cleanly."""

    names: dict[str, tuple[str, Scope]] = field(default_factory=dict)


@dataclass
class Document:
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)  # name -> (type, value)
    fragments: list[str] = field(default_factory=list)
    aliases: int = 0
    directives: int = 0
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def text(self, selection: str) -> str:
        definitions = ", ".join(f"${name}: {type_}" for name, (type_, _) in self.variables.items())
        head = f"query Generated({definitions})" if definitions else "query Generated"
        return "\n".join([f"{head} {selection}", *self.fragments])

    def values(self) -> dict[str, Any]:
        return {name: value for name, (_, value) in self.variables.items()}


class Generator:
    def __init__(self, schema: GraphQLSchema, ids: list[str]) -> None:
        self.schema = schema
        self.ids = ids

    def document(self, draw: Any) -> tuple[str, dict[str, Any]]:
        doc = Document()
        assert self.schema.query_type is not None
        selection = self.selection(draw, doc, self.schema.query_type, 0, Scope())
        return doc.text(selection), doc.values()

    # --- selections ---

    def selection(self, draw: Any, doc: Document, type_: Any, depth: int, scope: Scope) -> str:
        items: list[str] = []
        if isinstance(type_, GraphQLUnionType | GraphQLInterfaceType):
            items.append("__typename")
            possible = list(self.schema.get_possible_types(type_))
            if isinstance(type_, GraphQLInterfaceType) and draw(st.booleans()):
                items.extend(self.fields(draw, doc, type_, depth, scope, 1))
            for object_type in draw(st.lists(st.sampled_from(possible), max_size=2, unique=True)):
                inner = self.fields(draw, doc, object_type, depth, scope, 2)
                if inner:
                    items.append(f"... on {object_type.name} {{ {' '.join(inner)} }}")
        else:
            if draw(st.integers(0, 4)) == 0:
                items.append(self.fragment(draw, doc, type_, depth, scope))
            items.extend(self.fields(draw, doc, type_, depth, scope, 4))
            if not items:
                items.append("__typename")
        return "{ " + " ".join(items) + " }"

    def fragment(self, draw: Any, doc: Document, type_: GraphQLObjectType, depth: int, scope: Scope) -> str:
        name = f"F{next(doc.counter)}"
        inner = self.fields(draw, doc, type_, depth, scope, 2) or ["__typename"]
        doc.fragments.append(f"fragment {name} on {type_.name} {{ {' '.join(inner)} }}")
        spread = f"...{name}"
        return f"{spread} {spread}" if draw(st.booleans()) else spread

    def fields(self, draw: Any, doc: Document, type_: Any, depth: int, scope: Scope, most: int) -> list[str]:
        candidates = [
            (name, f) for name, f in type_.fields.items() if name not in SKIPPED_FIELDS and self.satisfiable(f)
        ]
        if not candidates:
            return []
        chosen = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=most))
        out = []
        for name, definition in chosen:
            text = self.field(draw, doc, type_, name, definition, depth, scope)
            if text:
                out.append(text)
        return out

    def field(
        self, draw: Any, doc: Document, parent: Any, name: str, definition: Any, depth: int, scope: Scope
    ) -> str | None:
        before = set(doc.variables)
        arguments = self.arguments(draw, doc, definition)
        named = get_named_type(definition.type)
        signature = f"{name}({arguments}):{definition.type}"
        response = name
        existing = scope.names.get(response)
        if (existing is not None and existing[0] != signature) or draw(st.integers(0, 5)) == 0:
            if doc.aliases >= MAX_ALIASES:
                for variable in set(doc.variables) - before:
                    del doc.variables[variable]
                return None
            doc.aliases += 1
            response = f"a{next(doc.counter)}"
        entry = scope.names.get(response)
        sub_scope = entry[1] if entry is not None else Scope()
        scope.names[response] = (signature, sub_scope)
        text = name if response == name else f"{response}: {name}"
        if arguments:
            text += f"({arguments})"
        text += self.directive(draw, doc)
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            return text
        if depth >= MAX_DEPTH:
            return text + " { __typename }"
        return text + " " + self.selection(draw, doc, named, depth + 1, sub_scope)

    def directive(self, draw: Any, doc: Document) -> str:
        kind = draw(st.integers(0, 11))
        if kind >= 4 or doc.directives >= MAX_DIRECTIVES:
            return ""
        doc.directives += 1
        name = "include" if kind % 2 else "skip"
        if kind < 2:
            return f" @{name}(if: {draw(st.sampled_from(['true', 'false']))})"
        variable = f"b{next(doc.counter)}"
        doc.variables[variable] = ("Boolean!", draw(st.booleans()))
        return f" @{name}(if: ${variable})"

    # --- arguments ---

    def satisfiable(self, definition: Any) -> bool:
        return all(
            self.supported(a.type)
            for a in definition.args.values()
            if isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined
        )

    def supported(self, type_: Any) -> bool:
        named = get_named_type(type_)
        if isinstance(named, GraphQLEnumType):
            return True
        if isinstance(named, GraphQLScalarType):
            return named.name in ("Int", "ID", "Boolean", *LITERALS)
        if isinstance(named, GraphQLInputObjectType):
            return all(
                self.supported(f.type) for f in named.fields.values() if isinstance(f.type, GraphQLNonNull)
            ) and not isinstance(type_, GraphQLList)
        return False

    def arguments(self, draw: Any, doc: Document, definition: Any) -> str:
        out = []
        for name, argument in definition.args.items():
            required = isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined
            if not required and (not self.supported(argument.type) or draw(st.integers(0, 2)) > 0):
                continue
            if name == "first" and draw(st.booleans()):
                variable = f"n{next(doc.counter)}"
                doc.variables[variable] = ("Int!", draw(st.integers(0, 3)))
                out.append(f"first: ${variable}")
                continue
            out.append(f"{name}: {self.value(draw, argument.type, name)}")
        return ", ".join(out)

    def value(self, draw: Any, type_: Any, name: str) -> str:
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            items = draw(st.lists(st.just(None), min_size=1, max_size=2))
            return "[" + ", ".join(self.value(draw, type_.of_type, name) for _ in items) + "]"
        if isinstance(type_, GraphQLEnumType):
            return str(draw(st.sampled_from(sorted(type_.values))))
        if isinstance(type_, GraphQLInputObjectType):
            parts = []
            for field_name, input_field in type_.fields.items():
                required = isinstance(input_field.type, GraphQLNonNull) and input_field.default_value is Undefined
                if required or (self.supported(input_field.type) and draw(st.integers(0, 3)) == 0):
                    parts.append(f"{field_name}: {self.value(draw, input_field.type, field_name)}")
            return "{" + ", ".join(parts) + "}"
        if type_.name == "Int":
            return str(draw(st.integers(0, 3)))
        if type_.name == "Boolean":
            return str(draw(st.sampled_from(["true", "false"])))
        if type_.name == "ID":
            return '"' + str(draw(st.sampled_from(self.ids))) + '"'
        return LITERALS[type_.name]


def documents(schema: GraphQLSchema, ids: list[str]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    generator = Generator(schema, ids)
    return st.composite(lambda draw: generator.document(draw))()
