"""Where compiled executors went wrong elsewhere (graphql-jit, 2026), and the guarantees around execution: each
case compiled and interpreted, the same bytes; and the plan cache bounded."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from api.app import create_app
from api.graphql.compiler.cache import LRU
from api.services.seed import seed_demo
from api.settings import Settings
from persistence.fast.sql import asyncpg_dsn
from tests.integration.compiler.harness import Differential, differential, principals, register

pytestmark = pytest.mark.db

IDS = """query Ids {
  cases(first: 2) { nodes { id } } contentItems(first: 20) { nodes { id } } hate: policyId(code: "HATE_SPEECH")
}"""

ERRORS = """query Errors($n: Int!, $id: ID!) {
  propagated: cases(first: 3) { nodes { id state reports(first: $n) { id source } } }
  literal: cases(first: 2) { nodes { id reports(first: 1000) { id } } }
  forbidden: cases(first: 2) { nodes { id history { nodes { action } } account { handle email } } }
  missing: node(id: "bogus") { id }
  wellFormedMissing: node(id: $id) { id ... on Case { state } }
  several: nodes(ids: ["bogus", $id]) { __typename id }
  empty: cases(first: 0) { nodes { id } pageInfo { hasNextPage endCursor } }
  badCursor: cases(first: 1, after: "zzz") { nodes { id } }
}"""

ORDER = """mutation Order($s: ID!, $p: ID!, $k: String!, $withA: Boolean!, $skipB: Boolean!) {
  ...A @include(if: $withA)
  ...B
  c: submitReport(input: {subjectId: $s, policyId: $p, source: USER, idempotencyKey: $k, text: "c"}) { ...R }
}
fragment A on Mutation {
  a: submitReport(input: {subjectId: $s, policyId: $p, source: USER, idempotencyKey: $k, text: "a"}) { ...R }
}
fragment B on Mutation {
  b: submitReport(input: {subjectId: $s, policyId: $p, source: USER, idempotencyKey: $k, text: "b"})
    @skip(if: $skipB) { ...R }
}
fragment R on SubmitReportResult {
  __typename ... on SubmitReportSuccess { report { status source } } ... on Error { code message }
}"""

EVENTS = """mutation Events($ip: JSON, $key: String!, $at: DateTime!) {
  submitEvents(input: {events: [
    {type: "account.login", region: EU, entities: [{kind: ACCOUNT, externalId: "u-1"}],
     attributes: {ip: $ip, device: "ios", success: true}, occurredAt: $at, idempotencyKey: $key}]}) {
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


async def _ids(d: Differential, admin: str | None) -> dict[str, str]:
    data = (await d.same(IDS, token=admin))["data"]
    return {
        "case": data["cases"]["nodes"][0]["id"],
        "content": data["contentItems"]["nodes"][0]["id"],
        **{f"content{i}": node["id"] for i, node in enumerate(data["contentItems"]["nodes"])},
        "policy": data["hate"],
    }


async def test_errors_nulls_refusals_and_null_propagation(seeded: str) -> None:
    await register(seeded, [IDS, ERRORS])
    tokens = await principals(seeded)
    async for d in differential(seeded):
        ids = await _ids(d, tokens["admin"])
        missing_case = "Q2FzZTowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA="
        for token in tokens.values():
            for n in (2, 0, 1000, -1):
                for node in (ids["case"], missing_case):
                    answer = await d.same(ERRORS, {"n": n, "id": node}, token)
            await d.same(ERRORS, {"n": "two", "id": ids["case"]}, token)  # a variable refused before execution
        assert answer["data"] is None or "errors" in answer
        assert {"FORBIDDEN", "BAD_REQUEST", "UNAUTHENTICATED"} <= d.codes
        assert not d.compiled.fallbacks


async def test_mutations_in_fragments_run_in_document_order(seeded: str) -> None:
    await register(seeded, [IDS, ORDER])
    tokens = await principals(seeded)
    async for d in differential(seeded):
        ids = await _ids(d, tokens["admin"])
        seen = []
        for number, (with_a, skip_b) in enumerate([(True, False), (False, False), (True, True), (False, True)]):
            variables = {"p": ids["policy"], "withA": with_a, "skipB": skip_b}
            # each executor makes its own first report (a fresh key and subject): the first field in order succeeds,
            # the later ones reuse its key with another text (IDEMPOTENCY_KEY_REUSED)
            mine = {"k": f"o{number}", "s": ids[f"content{2 * number}"]}
            ordinary = await d.post({"query": ORDER, "variables": {**variables, **mine}}, tokens["admin"])
            mine = {"k": f"c{number}", "s": ids[f"content{2 * number + 1}"]}
            compiled = await d.post({"documentId": _id(ORDER), "variables": {**variables, **mine}}, tokens["admin"])
            assert (compiled.status, compiled.body) == (ordinary.status, ordinary.body)
            seen.append(list(ordinary.json()["data"]))
            answers = list(ordinary.json()["data"].values())
            assert answers[0]["__typename"] == "SubmitReportSuccess", (number, answers)
            assert all(a.get("code") == "IDEMPOTENCY_KEY_REUSED" for a in answers[1:])
        assert seen == [["a", "b", "c"], ["b", "c"], ["a", "c"], ["c"]]


async def test_custom_scalar_literals_holding_variables(seeded: str) -> None:
    await register(seeded, [EVENTS])
    tokens = await principals(seeded)
    async for d in differential(seeded):
        for number, ip in enumerate(["203.0.113.7", 12345, None, {"nested": ["x"]}]):
            variables = {"ip": ip, "at": "2026-12-01T09:00:00Z"}
            ordinary = await d.post(
                {"query": EVENTS, "variables": {**variables, "key": f"o{number}"}}, tokens["partner"]
            )
            compiled = await d.post(
                {"documentId": _id(EVENTS), "variables": {**variables, "key": f"c{number}"}}, tokens["partner"]
            )
            assert (compiled.status, compiled.body) == (ordinary.status, ordinary.body)
            # and a retry of the same key: the first event, answered again
            await d.same(EVENTS, {**variables, "key": f"o{number}"}, tokens["partner"])
        once = {"ip": "1.2.3.4", "at": "2026-12-01T09:00:00Z", "key": "x"}
        await d.post({"query": EVENTS, "variables": once}, tokens["partner"])  # the first write, then its retries
        for token in tokens.values():  # refused (FORBIDDEN, audited) for those without platform_events:submit
            await d.same(EVENTS, once, token)


async def test_refusals_are_audited_on_both_paths(seeded: str) -> None:
    mutation = "mutation Reroute { rerouteCases(input: {region: US}) { __typename ... on Error { code } } }"
    await register(seeded, [mutation])
    tokens = await principals(seeded)
    async for d in differential(seeded):
        before = await _forbidden_events(seeded)
        answer = await d.same(mutation, token=tokens["auditor"])
        assert answer["data"] is None
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await _forbidden_events(seeded) == before + 2  # one refusal audited per executor


async def _forbidden_events(db_url: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM audit_events WHERE action = 'security.forbidden'")
    finally:
        await conn.close()
    return count


def _large(aliases: int) -> str:
    fields = ["id", "state", "priority", "reportCount", "slaDueAt", "surface", "region", "version"]
    body = " ".join(f"f{i}: {fields[i % len(fields)]}" for i in range(aliases))
    return "\n".join(
        [
            "query Large { cases(first: 5) { nodes { ...Many account { ...Account } } } }",
            f"fragment Many on Case {{ {body} }}",
            "fragment Account on Account { id handle status }",
        ]
    )


async def test_a_very_large_document_and_the_plan_cache_bound(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    large = _large(3000)
    small = [f"query Small{i} {{ viewer {{ id kind }} cases(first: {i}) {{ nodes {{ id }} }} }}" for i in range(4)]
    limits = {"max_tokens": 100_000, "max_aliases": 10_000, "max_query_cost": 1_000_000}
    for name, value in limits.items():  # registration validates with the server's limits, from the environment
        monkeypatch.setenv(f"VIGIL_{name.upper()}", str(value))
    await register(seeded, [large, *small])
    tokens = await principals(seeded)
    async for d in differential(seeded, **limits):
        d.compiled.plans = LRU(3)
        answer = await d.same(large, token=tokens["admin"])
        assert len(answer["data"]["cases"]["nodes"][0]) == 3001  # thousands of fields, per case
        for _ in range(2):
            for text in small:
                await d.same(text, token=tokens["moderator-EU"])
                assert len(d.compiled.plans) <= 3
        await d.same(large, token=tokens["moderator-EU"])  # evicted, compiled again, the same answer
        assert len(d.compiled.plans) <= 3
        assert d.compiled.compiled == 1 + 2 * len(small) + 1


async def test_the_deadline_and_production_errors_hold(seeded: str) -> None:
    query = "query Slow { viewer { id kind } cases(first: 3) { nodes { id reports { id } } } }"
    bad = "query Bad($n: Int!) { cases(first: $n) { nodes { id } } }"
    await register(seeded, [query, bad])
    tokens = await principals(seeded)
    async for d in differential(seeded, execution_timeout=1e-9):
        answer = await d.same(query, token=tokens["admin"])
        assert answer["errors"][0]["extensions"]["code"] == "TIMEOUT"
        assert answer["data"] is None
    async for d in differential(seeded, env="production"):
        for token in tokens.values():
            await d.same(query, token=token)
            await d.same(bad, {"n": "x"}, token)
            await d.same(bad, {"m": 1}, token)
            await d.same(bad, {"n": 1000}, token)


async def test_rate_limits_hold_on_the_compiled_path(seeded: str) -> None:
    query = "query Who { viewer { id } }"
    await register(seeded, [query])
    tokens = await principals(seeded)
    async for d in differential(seeded, rate_limits=True, rate_limit_staff="0.01/2"):
        statuses = [(await d.post({"documentId": _id(query)}, tokens["admin"])).status for _ in range(4)]
        assert statuses[:2] == [200, 200]
        assert 429 in statuses[2:]


def _id(text: str) -> str:
    from domain.document import document_id

    return document_id(text)


async def test_documents_with_several_operations(seeded: str) -> None:
    text = "query A { viewer { id } }\nquery B { cases(first: 1) { nodes { id state } } }\nmutation C { __typename }"
    await register(seeded, [text])
    tokens = await principals(seeded)
    async for d in differential(seeded):
        for token in tokens.values():
            for name in ("A", "B", "C", "D", None):
                await d.same(text, token=token, name=name)
        assert d.compiled.compiled == 3  # one plan per operation, whoever asks


async def test_compiled_execution_can_be_switched_off(seeded: str) -> None:
    query = "query Who { viewer { id kind } cases(first: 2) { nodes { id state } } }"
    await register(seeded, [query])
    tokens = await principals(seeded)
    app = create_app(Settings(env="test", compiled_execution=False), database_url=seeded)  # type: ignore[arg-type]
    graphql_app = next(r.app for r in app.routes if getattr(r, "path", "") == "/graphql")  # type: ignore[attr-defined]
    assert graphql_app.compiled is None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            headers = {"Authorization": f"Bearer {tokens['admin']}"}
            by_id = await client.post("/graphql", json={"documentId": _id(query)}, headers=headers)
            by_text = await client.post("/graphql", json={"query": query}, headers=headers)
    assert by_id.status_code == 200
    assert by_id.content == by_text.content
