"""The trusted documents' own route answers exactly what strawberry's HTTP view answers for the same request.

Each request naming a document is sent twice to the same app: once to the route (as in production) and once with
the route stood aside, so the view answers the very same bytes of request. Both executors: compiled plans, and
graphql-core with ``VIGIL_COMPILED_EXECUTION=off``. Successes, execution errors, and every refusal on the way (a
malformed or unknown id, a body field of the wrong type, an operation name too long, a document the token is not
pinned to, trusted documents switched off) must be the same status and the same bytes, headers included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.cli.documents import CONSOLE_DOCUMENTS, read_documents
from api.services.seed import seed_demo
from api.settings import Settings
from domain.document import document_id
from tests.integration.compiler.harness import principals, register

pytestmark = pytest.mark.db

IDS = "query Ids { cases(first: 1) { nodes { id } } policies(first: 1) { nodes { id } } }"
HEADERS_COMPARED = ("content-type", "retry-after", "allow")


async def _app(db_url: str, **settings: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    options: dict[str, Any] = {"env": "test", "principal_cache_seconds": 0, "rate_limits": False, **settings}
    app = create_app(Settings(**options), database_url=db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            view = next(r.app for r in app.routes if getattr(r, "path", "") == "/graphql")  # type: ignore[attr-defined]
            yield client, view


class RouteAndView:
    """Posts a body to the route, then the same body to the view (the route stood aside); compares."""

    def __init__(self, client: httpx.AsyncClient, view: Any) -> None:
        self.client = client
        self.view = view
        self.compared = 0

    async def post(self, body: Any, token: str | None, headers: dict[str, str] | None = None) -> httpx.Response:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.client.post("/graphql", json=body, headers=headers)

    async def same(
        self, body: Any, token: str | None = None, *, routed: bool = True, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """``routed``: whether the route answers (a body that does not decode is the view's to refuse)."""
        route = self.view.trusted
        answered = route.answered
        by_route = await self.post(body, token, headers)
        assert route.answered == answered + routed, "the route did not answer a request naming a document"
        run = route.run

        async def aside(_: Any) -> None:
            return None

        route.run = aside
        try:
            by_view = await self.post(body, token, headers)
        finally:
            route.run = run
        assert (by_route.status_code, by_route.content) == (by_view.status_code, by_view.content), (
            f"\n{body}\nroute {by_route.status_code}: {by_route.content[:2000]!r}"
            f"\nview {by_view.status_code}: {by_view.content[:2000]!r}"
        )
        for name in HEADERS_COMPARED:
            assert by_route.headers.get(name) == by_view.headers.get(name), name
        self.compared += 1
        return by_route


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "graphql-core"])
async def test_the_route_answers_as_the_view_for_every_console_document(db_url: str, compiled: bool) -> None:
    await seed_demo(db_url)
    documents = read_documents([CONSOLE_DOCUMENTS])
    await register(db_url, [d.text for d in documents] + [IDS])
    tokens = await principals(db_url)
    async for client, view in _app(db_url, compiled_execution=compiled):
        both = RouteAndView(client, view)
        ids = (await both.same({"documentId": document_id(IDS)}, tokens["admin"])).json()["data"]
        case_id = ids["cases"]["nodes"][0]["id"]
        policy_id = ids["policies"]["nodes"][0]["id"]
        queries = [d for d in documents if not d.text.lstrip().startswith("mutation")]
        for document in queries:
            for who in ("admin", "moderator-EU", "auditor", "partner", "anonymous"):
                for variables in ({"first": 100}, {"first": "x"}, {}):
                    await both.same({"documentId": document_id(document.text), "variables": variables}, tokens[who])
        refused_write = {
            "documentId": document_id(next(d.text for d in documents if d.name == "DecideCase")),
            "variables": {"input": {"caseId": case_id, "verdict": "VIOLATING", "policyId": policy_id}},
        }
        await both.same(refused_write, tokens["auditor"])  # refused in the resolver: the same errors, no write
        if compiled:
            assert view.compiled is not None
            assert view.compiled.compiled >= 1
        else:
            assert view.compiled is None
        assert both.compared > 3 * len(queries)


async def test_refusals_on_the_route_are_the_views(db_url: str) -> None:
    await seed_demo(db_url)
    typename = "query Typename { __typename }"
    await register(db_url, [typename])
    tokens = await principals(db_url)
    known = document_id(typename)
    unknown = "sha256:" + "0" * 64
    async for client, view in _app(db_url):
        both = RouteAndView(client, view)
        ok = await both.same({"documentId": known}, tokens["admin"])
        assert ok.json() == {"data": {"__typename": "Query"}}
        bodies: list[dict[str, Any]] = [
            {"documentId": "not-a-hash"},
            {"documentId": unknown},
            {"id": unknown},
            {"doc_id": 42},
            {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": unknown}}},
            {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "nope"}}},
            {"documentId": known, "query": "{ __typename }"},  # the text is not the document's
            {"documentId": known, "variables": [1]},
            {"documentId": known, "extensions": "x", "id": known},
            {"documentId": known, "query": 7},
            {"documentId": known, "operationName": 3},
            {"documentId": known, "operationName": "x" * 500},
            {"documentId": known, "operationName": "Other"},
        ]
        for body in bodies:
            for token in (tokens["admin"], None, "not-a-token"):
                answer = await both.same(body, token)
                assert answer.status_code >= 200
        too_deep = await both.same({"documentId": known, "variables": {"deep": _nested(200)}}, None, routed=False)
        assert too_deep.status_code == 400
        # the view's own test of the content type (case-sensitive): what it refuses, the route leaves to it
        shouting = await both.same(
            {"documentId": known}, None, routed=False, headers={"content-type": "Application/JSON"}
        )
        assert shouting.status_code == 400
        charset = await both.same(
            {"documentId": known}, None, headers={"content-type": "application/json; charset=utf-8"}
        )
        assert charset.status_code == 200
        # GraphQL-over-HTTP: a request error is a 400 when the client asks for the GraphQL response media type
        negotiated = await both.same(
            {"documentId": known, "operationName": "Other"},
            tokens["admin"],
            headers={"accept": "application/graphql-response+json"},
        )
        assert negotiated.status_code == 400
        assert negotiated.headers["content-type"].startswith("application/graphql-response+json")
        assert negotiated.headers["x-request-id"]
    async for client, view in _app(db_url, trusted_documents="off"):
        both = RouteAndView(client, view)
        off = await both.same({"documentId": known}, tokens["admin"])
        assert off.status_code == 400
        assert off.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENTS_OFF"


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


ISSUE = """mutation($input: IssueApiTokenInput!) { issueApiToken(input: $input) {
  __typename ... on IssueApiTokenSuccess { secret } ... on Error { code message } } }"""


async def test_a_pinned_token_and_rate_limits_hold_on_the_route(db_url: str) -> None:
    await seed_demo(db_url)
    typename = "query Typename { __typename }"
    other = "query Other { __typename }"
    await register(db_url, [typename, other])  # named doc0 and doc1
    tokens = await principals(db_url)
    async for client, view in _app(db_url):
        both = RouteAndView(client, view)
        variables = {"input": {"partnerOrg": "pinned", "scopes": ["trusted_flagger"], "region": "EU", "name": "p",
                               "documents": ["doc0"]}}  # fmt: skip
        issued = await both.post({"query": ISSUE, "variables": variables}, tokens["admin"])
        pinned = issued.json()["data"]["issueApiToken"]["secret"]
        assert (await both.same({"documentId": document_id(typename)}, pinned)).status_code == 200
        refused = await both.same({"documentId": document_id(other)}, pinned)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_ALLOWED"
    async for client, view in _app(db_url, rate_limits=True, rate_limit_anonymous="1/1"):
        route = view.trusted
        answers = [(await client.post("/graphql", json={"documentId": document_id(typename)})) for _ in range(3)]
        assert route.answered == 3
        limited = [a for a in answers if a.status_code == 429]
        assert limited, [a.status_code for a in answers]
        assert limited[0].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert limited[0].headers["retry-after"]
