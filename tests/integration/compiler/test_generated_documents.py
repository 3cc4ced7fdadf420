"""Documents generated over the schema (hypothesis), compiled and interpreted, for every principal: the same
bytes. The documents are drawn first (derandomised: the same ones on every run), then all of them run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import parse
from hypothesis import Phase, given, settings

from api.graphql.schema import build_schema
from api.services.seed import seed_demo
from api.settings import Settings
from tests.integration.compiler.generator import documents
from tests.integration.compiler.harness import Differential, differential, principals, register

pytestmark = pytest.mark.db

IDS = """query Ids {
  cases(first: 2) { nodes { id account { id } decision { id } reports { id } strikes { id } } }
  contentItems(first: 1) { nodes { id } } queues(first: 1) { nodes { id } } policies(first: 1) { nodes { id } }
  appeals(first: 1) { nodes { id } } ads(first: 1) { nodes { id } }
}"""


MISSING = "Q2FzZTowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA="  # a well-formed case id that is nowhere


@pytest.fixture
async def diff(db_url: str) -> AsyncIterator[Differential]:
    await seed_demo(db_url)
    async for d in differential(db_url):
        yield d


def _ids_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "id" and isinstance(v, str)] + [
            i for v in value.values() for i in _ids_in(v)
        ]
    if isinstance(value, list):
        return [i for v in value for i in _ids_in(v)]
    return []


def draw_documents(ids: list[str], count: int) -> list[tuple[str, dict[str, Any]]]:
    schema: Any = build_schema(Settings(env="test"))  # type: ignore[arg-type]
    drawn: list[tuple[str, dict[str, Any]]] = []

    @settings(max_examples=count, deadline=None, derandomize=True, database=None, phases=[Phase.generate])
    @given(documents(schema._schema, ids))
    def collect(document: tuple[str, dict[str, Any]]) -> None:
        drawn.append(document)

    collect()
    assert schema.validate_document is not None
    return [d for d in drawn if not schema.validate_document(parse(d[0]))]


async def test_generated_documents_answer_the_same_for_every_principal(db_url: str, diff: Differential) -> None:
    await register(db_url, [IDS])
    tokens = await principals(db_url)
    seeded = await diff.same(IDS, token=tokens["admin"])
    ids = [
        *sorted(set(_ids_in(seeded["data"])))[:12],
        "bogus",
        "Q2FzZTowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=",
    ]
    generated = draw_documents(ids, 50)
    assert len(generated) >= 45  # the generator makes valid documents
    await register(db_url, sorted({text for text, _ in generated}))
    flipped = 0
    for text, variables in generated:
        for token in tokens.values():
            await diff.same(text, variables, token)
        if any(isinstance(v, bool) for v in variables.values()):  # the other @skip/@include values: another plan
            other = {k: not v if isinstance(v, bool) else v for k, v in variables.items()}
            for who in ("admin", "moderator-EU"):
                await diff.same(text, other, tokens[who])
            flipped += 1
    assert flipped >= 10
    assert diff.compared == 1 + len(generated) * len(tokens) + 2 * flipped
    assert diff.compiled.compiled >= len({text for text, _ in generated})
    assert not diff.compiled.fallbacks
    assert diff.errors_seen > 50
    assert {"FORBIDDEN", "UNAUTHENTICATED"} <= diff.codes
