"""Documents generated over the fields the renderer writes (hypothesis, the schema generator restricted to them):
aliases, named and inline fragments, unions, ``@skip``/``@include``, literal and variable arguments, under each root
list. Each runs rendered (trusted) and on graphql-core (the same text sent ad hoc), for several principals: the
same bytes; and most of them really render (the rest, a guard or a refused argument, run in Python, equal too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLObjectType, GraphQLSchema, parse
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from api.graphql.compiler import render
from api.graphql.schema import build_schema
from api.services.seed import seed_demo
from api.settings import Settings
from persistence.queries import reads
from tests.integration.compiler.generator import Document, Generator, Scope
from tests.integration.compiler.harness import Differential, differential, principals, register

pytestmark = pytest.mark.db

COUNT = 30


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


RENDERED: dict[str, set[str]] = {
    type_name: {"id", *(_camel(c) for c in table.columns)} for type_name, table in render.TYPES.items()
}
for type_name, python_name in render.RELATIONS:
    RENDERED[type_name].add(_camel(python_name))


class RenderedGenerator(Generator):
    """The schema generator, offered only the fields the renderer writes, from one root list at a time."""

    def fields(self, draw: Any, doc: Document, type_: Any, depth: int, scope: Scope, most: int) -> list[str]:
        allowed = RENDERED.get(type_.name)
        if allowed is None:
            return super().fields(draw, doc, type_, depth, scope, most)
        original = type_.fields
        try:
            type_.fields = {name: f for name, f in original.items() if name in allowed}  # a view, for this draw
            return super().fields(draw, doc, type_, depth, scope, most)
        finally:
            type_.fields = original

    def rooted(self, draw: Any) -> tuple[str, dict[str, Any]]:
        doc = Document()
        assert self.schema.query_type is not None
        root = draw(st.sampled_from([field for (_, field) in render.ROOTS]))
        node_type = self.schema.get_type(render.ROOTS[("Query", root)])
        assert isinstance(node_type, GraphQLObjectType)
        nodes = self.selection(draw, doc, node_type, 1, Scope())
        first = draw(st.integers(0, 12))
        return doc.text(f"{{ {root}(first: {first}) {{ nodes {nodes} pageInfo {{ endCursor }} }} }}"), doc.values()


def _drawn(schema: GraphQLSchema) -> list[tuple[str, dict[str, Any]]]:
    generator = RenderedGenerator(schema, ["bogus"])
    drawn: list[tuple[str, dict[str, Any]]] = []

    @settings(max_examples=COUNT, deadline=None, derandomize=True, database=None, phases=[Phase.generate])
    @given(st.composite(lambda draw: generator.rooted(draw))())
    def collect(document: tuple[str, dict[str, Any]]) -> None:
        drawn.append(document)

    collect()
    return drawn


@pytest.fixture
async def diff(db_url: str) -> AsyncIterator[Differential]:
    await seed_demo(db_url)
    async for d in differential(db_url):
        yield d


async def test_generated_rendered_pages_answer_as_graphql_core(
    db_url: str, diff: Differential, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema: Any = build_schema(Settings(env="test"))  # type: ignore[arg-type]
    generated = [d for d in _drawn(schema._schema) if not schema.validate_document(parse(d[0]))]
    assert len(generated) >= COUNT * 2 // 3
    await register(db_url, sorted({text for text, _ in generated}))
    tokens = await principals(db_url)
    seen: list[list[str | None] | None] = []
    original = reads.fetch_page

    async def observed(*args: Any, **kwargs: Any) -> Any:
        page = await original(*args, **kwargs)
        seen.append(page.rendered)
        return page

    monkeypatch.setattr(reads, "fetch_page", observed)
    rendered = 0
    for text, variables in generated:
        seen.clear()
        for who in ("admin", "moderator-EU", "auditor", "flagger-EU"):
            await diff.same(text, variables, tokens[who])
        rendered += any(page is not None for page in seen)
    assert rendered >= len(generated) * 2 // 3, (rendered, len(generated))
