"""A trusted request's variables coerced by the compiled function (``api.graphql.compiler.variables``): the same
bytes as graphql-core's coercion ad hoc, whether the variables are valid (the compiled function's values) or not
(it gives up, graphql-core reports the errors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.services.seed import seed_demo
from domain.document import document_id
from tests.integration.compiler.harness import differential, principals, register

pytestmark = pytest.mark.db

CASES = (Path(__file__).resolve().parents[3] / "api" / "console" / "CasesPage.graphql").read_text()
EVENTS = """mutation Events($input: SubmitEventsInput!) {
  submitEvents(input: $input) {
    __typename
    ... on SubmitEventsSuccess {
      results { __typename ... on SubmitEventSuccess { duplicate } ... on Error { code message field } }
    }
    ... on Error { code message }
  }
}"""


@pytest.fixture
async def seeded(db_url: str) -> str:
    await seed_demo(db_url)
    return db_url


async def test_valid_variables_take_the_compiled_coercion_and_refused_ones_graphql_core(seeded: str) -> None:
    await register(seeded, [CASES])
    tokens = await principals(seeded)
    async for d in differential(seeded):
        valid = [
            {"first": 3},
            {"first": 3, "filter": {"region": "EU", "states": "OPEN"}},  # a single value for a list
            {"first": 2, "after": None, "filter": {"region": "EU", "states": ["OPEN", "ASSIGNED"]}},
            {"first": 2, "filter": None},
        ]
        refused = [
            {},
            {"first": "three"},
            {"first": 2**31},
            {"first": 2, "filter": {"bogus": 1}},
            {"first": 2, "filter": {"region": "eu"}},
            {"first": 2, "filter": {"states": [None]}},
            {"first": 2.5},
        ]
        for token in (tokens["admin"], tokens["moderator-EU"]):
            before = d.compiled.variable_fallbacks
            for variables in valid:
                await d.same(CASES, variables, token)
            assert d.compiled.variable_fallbacks == before  # each coerced by the compiled function
            for variables in refused:
                answer = await d.same(CASES, variables, token)
                assert answer["data"] is None
                assert answer["errors"][0]["message"].startswith("Variable '$")
            assert d.compiled.variable_fallbacks == before + len(refused)
        assert len(d.compiled.variables) == 1
        assert not d.compiled.fallbacks


async def test_submit_events_variables(seeded: str) -> None:
    await register(seeded, [EVENTS])
    tokens = await principals(seeded)
    async for d in differential(seeded):

        def batch(key: str, **change: object) -> dict[str, object]:
            event = {
                "type": "content.posted",
                "region": "EU",
                "entities": [{"kind": "ACCOUNT", "externalId": "u-1"}, {"kind": "CONTENT", "externalId": "c-1"}],
                "attributes": {"text": "free coins", "n": 3},
                "occurredAt": "2026-12-01T09:00:00.250+01:00",
                "idempotencyKey": key,
                **change,
            }
            return {"input": {"events": [event, {**event, "idempotencyKey": f"{key}-2", "attributes": None}]}}

        before = d.compiled.variable_fallbacks
        for number, change in enumerate(
            [{}, {"occurredAt": "2026-12-01T09:00:00Z"}, {"entities": {"kind": "ACCOUNT", "externalId": "u-2"}}]
        ):
            ordinary = await d.post({"query": EVENTS, "variables": batch(f"o{number}", **change)}, tokens["partner"])
            compiled = await d.post(
                {"documentId": document_id(EVENTS), "variables": batch(f"c{number}", **change)}, tokens["partner"]
            )
            assert (compiled.status, compiled.body) == (ordinary.status, ordinary.body)
            assert ordinary.json()["data"]["submitEvents"]["__typename"] == "SubmitEventsSuccess"
        assert d.compiled.variable_fallbacks == before
        for change in (
            {"occurredAt": "yesterday"},
            {"region": "XX"},
            {"entities": [{"kind": "ACCOUNT"}]},
            {"idempotencyKey": None},
            {"type": 5},
        ):
            answer = await d.same(EVENTS, batch("bad", **change), tokens["partner"])
            assert answer["data"] is None
        assert d.compiled.variable_fallbacks == before + 5
