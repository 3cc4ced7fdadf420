"""`events` in GraphQL: `events:read` within the reader's regions, filters by type and time, cursor pages; and
`webhooks` with their delivery histories in a fixed number of statements whatever the number of endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.conftest import GraphQLClient
from tests.integration.outbox.helpers import decided_case, dispatcher, register
from tests.integration.outbox.receiver import running_receiver
from tests.integration.tokens import issue_partner_token, issue_staff_token

EVENTS = """query($first: Int, $after: String, $filter: EventFilter) {
  events(first: $first, after: $after, filter: $filter) {
    nodes { id eventId type version region subjectKind subjectId occurredAt payload }
    pageInfo { hasNextPage endCursor } } }"""


async def _events(gql: GraphQLClient, token: str, **variables: Any) -> dict[str, Any]:
    body = await gql(EVENTS, variables, token=token)
    return body


async def test_readers_see_the_events_of_their_regions_filtered_and_paged(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await decided_case(gql, admin, "us-one", region="US")
    await decided_case(gql, admin, "eu-one", region="EU")
    eu_auditor = await issue_staff_token(db_url, "auditor", "EU")
    consumer = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    moderator = await issue_staff_token(db_url, "moderator", "US")

    everything = (await _events(gql, admin, first=100))["data"]["events"]["nodes"]
    assert {e["region"] for e in everything} == {"US", "EU"}
    eu = (await _events(gql, eu_auditor, first=100))["data"]["events"]["nodes"]
    assert eu == [e for e in everything if e["region"] == "EU"]
    us = (await _events(gql, consumer, first=100))["data"]["events"]["nodes"]
    assert us == [e for e in everything if e["region"] == "US"]

    made = await _events(gql, admin, filter={"types": ["decision.made"]})
    decisions = made["data"]["events"]["nodes"]
    assert [e["type"] for e in decisions] == ["decision.made", "decision.made"]
    assert decisions[0]["payload"]["verdict"] == "VIOLATING"
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await _events(gql, admin, filter={"since": future}))["data"]["events"]["nodes"] == []
    assert len((await _events(gql, admin, first=100, filter={"until": future}))["data"]["events"]["nodes"]) == len(
        everything
    )

    first = (await _events(gql, admin, first=2))["data"]["events"]
    second = (await _events(gql, admin, first=2, after=first["pageInfo"]["endCursor"]))["data"]["events"]
    assert first["nodes"] + second["nodes"] == everything[:4]
    assert first["pageInfo"]["hasNextPage"] is True

    refused = await _events(gql, moderator)
    assert refused["data"]["events"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await _events(gql, admin, after="not-a-cursor")
    assert bad["errors"][0]["extensions"]["code"] in {"BAD_REQUEST", "INVALID_INPUT"}


@contextmanager
def _counting(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "outbox_events" in statement or "webhook_" in statement:
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


HISTORIES = """{ webhooks(first: 20) { nodes { id deliveries(first: 10) { nodes { id state event { type } } } } } }"""


async def test_histories_of_many_endpoints_cost_the_statements_of_one(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    partner = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    engine: AsyncEngine = gql.http._transport.app.state.runtime.sessions.kw["bind"]  # type: ignore[attr-defined]
    counts = {}
    with running_receiver() as receiver:
        for n in (1, 5):
            while len((await gql(HISTORIES, token=partner))["data"]["webhooks"]["nodes"]) < n:
                await register(gql, partner, receiver.url("/ok"), ["decision.made", "case.opened"])
            await decided_case(gql, admin, f"history-{n}")
            async with dispatcher(db_url) as d:
                await d.run_once()
            with _counting(engine) as statements:
                body = await gql(HISTORIES, token=partner)
            hooks = body["data"]["webhooks"]["nodes"]
            assert len(hooks) == n
            assert all(h["deliveries"]["nodes"] for h in hooks)
            assert all(
                d["event"]["type"] in {"decision.made", "case.opened"} for h in hooks for d in h["deliveries"]["nodes"]
            )
            counts[n] = len(statements)
    assert counts[1] == counts[5] == 3  # endpoints, their histories, the events delivered
