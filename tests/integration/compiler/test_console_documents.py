"""Every shipped console document, compiled and interpreted, for every principal: the same bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.cli.documents import CONSOLE_DOCUMENTS, read_documents
from api.services.seed import seed_demo
from tests.integration.compiler.harness import Differential, differential, principals, register

pytestmark = pytest.mark.db


@pytest.fixture
async def diff(db_url: str) -> AsyncIterator[Differential]:
    await seed_demo(db_url)
    async for d in differential(db_url):
        yield d


async def _ids(diff: Differential, admin: str | None) -> dict[str, str]:
    body = await diff.same(
        "query Ids { queues(first: 1) { nodes { id } } cases(first: 1) { nodes { id } }"
        " policies(first: 1) { nodes { id } } contentItems(first: 1) { nodes { id } } }",
        token=admin,
    )
    data = body["data"]
    return {key: data[key]["nodes"][0]["id"] for key in ("queues", "cases", "policies", "contentItems")}


async def test_console_documents_answer_the_same_for_every_principal(db_url: str, diff: Differential) -> None:
    documents = read_documents([CONSOLE_DOCUMENTS])
    await register(db_url, [d.text for d in documents] + [_IDS])
    tokens = await principals(db_url)
    ids = await _ids(diff, tokens["admin"])
    variables: dict[str, list[dict[str, Any]]] = {
        "CasesPage": [{"first": 100}, {"first": 0}, {"first": 5, "filter": {"region": "EU"}}, {"first": "x"}, {}],
        "ClaimNextCase": [{"queueId": "bogus"}],
        "DecideCase": [
            {
                "input": {
                    "caseId": ids["cases"],
                    "verdict": "VIOLATING",
                    "policyId": ids["policies"],
                    "rationale": "",
                    "actions": [],
                }
            },
            {"input": {"caseId": "nope"}},
        ],
        "QueueOverview": [{"region": "US"}, {"region": "EU"}, {}],
        "SubmitReport": [
            {
                "input": {
                    "subjectId": ids["contentItems"],
                    "policyId": ids["policies"],
                    "source": "USER",
                    "idempotencyKey": "compiled-1",
                }
            },
            {"input": {"subjectId": "bogus", "policyId": ids["policies"], "source": "USER"}},
        ],
        "SubmitReports": [
            {
                "input": {
                    "reports": [
                        {
                            "subjectId": ids["contentItems"],
                            "policyId": ids["policies"],
                            "source": "USER",
                            "idempotencyKey": "compiled-2",
                        }
                    ]
                }
            },
        ],
        "SubmitEvents": [
            {
                "input": {
                    "events": [
                        {
                            "type": "content.posted",
                            "region": "US",
                            "entities": [{"kind": "ACCOUNT", "externalId": "compiled-acct"}],
                            "attributes": {"text": "free coins"},
                            "occurredAt": "2026-12-01T10:00:00Z",
                            "idempotencyKey": "compiled-3",
                        },
                        {"type": "", "region": "US", "entities": [], "occurredAt": "x", "idempotencyKey": "k"},
                    ]
                }
            },
            {"input": {"events": "nope"}},
        ],
        "Typename": [{}],
        "Viewer": [{}],
    }
    for document in documents:
        for who, token in tokens.items():
            for values in variables[document.name]:
                if document.text.lstrip().startswith("mutation") and who == "admin":
                    # a first write differs from its repeat: run it once on the ordinary path first
                    await diff.post({"query": document.text, "variables": values}, token)
                await diff.same(document.text, values, token)
    assert diff.compared >= 80
    assert diff.compiled.compiled >= len(documents) - 1
    assert not diff.compiled.fallbacks


_IDS = (
    "query Ids { queues(first: 1) { nodes { id } } cases(first: 1) { nodes { id } }"
    " policies(first: 1) { nodes { id } } contentItems(first: 1) { nodes { id } } }"
)
