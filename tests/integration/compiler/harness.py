"""Both executors over HTTP on one app: a trusted document sent by id runs its compiled plan, the same text sent
as text runs on strawberry and graphql-core; the two responses must be the same bytes (status included)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.app import create_app
from api.cli.documents import register_with
from api.graphql.compiler import CompiledExecution
from api.settings import Settings
from domain.document import document_id, new_document
from persistence.db import create_engine, create_session_factory
from persistence.principals import SYSTEM_AUDIT
from persistence.uow import SqlUnitOfWork
from tests.integration.tokens import issue_partner_token, issue_staff_token

ROUNDS = 6


async def register(db_url: str, texts: list[str]) -> None:
    """Register ``texts`` as trusted documents (each validated against the schema, as on any registration)."""
    engine = create_engine(db_url, pool_size=1)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            await register_with(uow, [new_document(f"doc{i}", t) for i, t in enumerate(texts)])
    finally:
        await engine.dispose()


async def principals(db_url: str) -> dict[str, str | None]:
    """A token per principal the differential runs as (anonymous: none)."""
    return {
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "moderator-EU": await issue_staff_token(db_url, "moderator", "EU"),
        "auditor": await issue_staff_token(db_url, "auditor", "*"),
        "partner": await issue_partner_token(db_url, "platform", ["platform_service"], "*"),
        "flagger-EU": await issue_partner_token(db_url, "flagger", ["trusted_flagger"], "EU"),
        "anonymous": None,
    }


@dataclass
class Outcome:
    status: int
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class Differential:
    http: httpx.AsyncClient
    compiled: CompiledExecution
    compared: int = 0
    errors_seen: int = 0
    codes: set[str] = field(default_factory=set)

    async def post(self, body: dict[str, Any], token: str | None) -> Outcome:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post("/graphql", json=body, headers=headers)
        return Outcome(response.status_code, response.content)

    async def both(
        self, text: str, variables: dict[str, Any] | None = None, token: str | None = None, name: str | None = None
    ) -> tuple[Outcome, Outcome]:
        """The ordinary answer, then the compiled one (the document must be registered)."""
        common: dict[str, Any] = {"variables": variables or {}}
        if name is not None:
            common["operationName"] = name
        ordinary = await self.post({"query": text, **common}, token)
        compiled = await self.post({"documentId": document_id(text), **common}, token)
        return ordinary, compiled

    async def same(
        self, text: str, variables: dict[str, Any] | None = None, token: str | None = None, name: str | None = None
    ) -> Any:
        """Assert the compiled answer is graphql-core's, byte for byte; the decoded answer.

        graphql-core itself orders the errors of sibling fields that await I/O concurrently by which finishes first
        (two root fields each failing after a query, say): such a document has several ordinary answers, and the
        compiled one must be one of them. So a differing pair is asked again, up to ``ROUNDS`` times; a compiled
        answer that is none of the ordinary answers seen fails."""
        ordinary_seen: set[tuple[int, bytes]] = set()
        compiled_seen: list[tuple[int, bytes]] = []
        for _ in range(ROUNDS):
            ordinary, compiled = await self.both(text, variables, token, name)
            ordinary_seen.add((ordinary.status, ordinary.body))
            compiled_seen.append((compiled.status, compiled.body))
            if any(answer in ordinary_seen for answer in compiled_seen):
                break
        else:
            shown = sorted(ordinary_seen)[0]
            raise AssertionError(
                f"\n{text}\nvariables={variables}\nordinary {shown[0]}: {shown[1][:3000]!r}"
                f"\ncompiled {compiled_seen[0][0]}: {compiled_seen[0][1][:3000]!r}"
            )
        self.compared += 1
        answer = ordinary.json()
        for error in answer.get("errors") or ():
            self.errors_seen += 1
            self.codes.add(str((error.get("extensions") or {}).get("code")))
        return answer


async def differential(db_url: str, **settings: Any) -> AsyncIterator[Differential]:
    options: dict[str, Any] = {"env": "test", "principal_cache_seconds": 0, "rate_limits": False, **settings}
    app = create_app(Settings(**options), database_url=db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            graphql_app = next(r.app for r in app.routes if getattr(r, "path", "") == "/graphql")  # type: ignore[attr-defined]
            compiled = graphql_app.compiled
            assert compiled is not None
            yield Differential(client, compiled)
