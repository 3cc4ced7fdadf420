"""Refused mutations are recorded as security events, in their own transaction, with the request's id."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from persistence.db import SessionFactory
from persistence.tables.audit import audit_events
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_staff_token

DECIDE = {
    "input": {
        "caseId": "Q2FzZTowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDE=",
        "verdict": "VIOLATING",
        "policyId": "UG9saWN5OjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMQ==",
        "rationale": "x",
    }
}


async def _post(http: httpx.AsyncClient, request_id: str, token: str | None) -> dict[str, Any]:
    headers = {"X-Request-Id": request_id} | ({"Authorization": f"Bearer {token}"} if token else {})
    response = await http.post("/graphql", json={"query": flows.DECIDE_CASE, "variables": DECIDE}, headers=headers)
    body: dict[str, Any] = response.json()
    return body


async def _security_events(sessions: SessionFactory, request_id: str) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            sa.select(
                audit_events.c.actor_kind,
                audit_events.c.action,
                audit_events.c.subject_kind,
                audit_events.c.subject_id,
                audit_events.c.region,
            ).where(audit_events.c.request_id == request_id)
        )
        return [tuple(r) for r in rows]


async def test_an_anonymous_mutation_is_recorded(http: httpx.AsyncClient, sessions: SessionFactory) -> None:
    body = await _post(http, "anon-1", None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await _security_events(sessions, "anon-1") == [
        ("ANONYMOUS", "security.unauthenticated", "Mutation", "decideCase", None)
    ]


async def test_an_auditor_trying_to_decide_is_recorded(
    db_url: str, http: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    auditor = await issue_staff_token(db_url, "auditor", "US")
    body = await _post(http, "auditor-1", auditor)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _security_events(sessions, "auditor-1") == [
        ("STAFF", "security.forbidden", "Mutation", "decideCase", None)
    ]


async def test_a_refused_query_is_not_recorded(db_url: str, http: httpx.AsyncClient, sessions: SessionFactory) -> None:
    moderator = await issue_staff_token(db_url, "moderator", "US")
    response = await http.post(
        "/graphql",
        json={"query": "{ verifyAuditTrail { ok } }"},
        headers={"Authorization": f"Bearer {moderator}", "X-Request-Id": "query-1"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _security_events(sessions, "query-1") == []
