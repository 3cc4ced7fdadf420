"""Issue 14 items 1, 2 and 5: variable mistakes get their real message (internal faults stay masked); a refused
field beside a shared DataLoader key is a field error, not a 500; a client that goes away is a 499 at INFO."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.types import Message

from api.app import create_app
from api.settings import Settings
from persistence.db import create_engine
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token
from tests.security.conftest import LogLines

ACCOUNTS = "query($f: AccountFilter!) { accounts(filter: $f) { nodes { id } } }"


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        (ACCOUNTS, {}, "non-null type 'AccountFilter!' to be provided"),
        (ACCOUNTS, {"f": {"region": "MARS"}}, "Value 'MARS' does not exist in 'Region' enum"),
        (ACCOUNTS, {"f": {"externalId": {"an": "object"}}}, "String cannot represent a non string value"),
        ("query($n: Int) { cases(first: $n) { nodes { id } } }", {"n": "ten"}, "Int cannot represent"),
    ],
    ids=["missing", "unknown-enum-value", "object-for-string", "string-for-int"],
)
async def test_variable_mistakes_reach_the_client(
    gql: GraphQLClient, logs: LogLines, query: str, variables: dict[str, Any], expected: str
) -> None:
    body = await gql(query, variables)
    message = body["errors"][0]["message"]
    assert expected in message, body
    assert message != "Unexpected error."
    assert not logs.at_least(logging.ERROR)


async def test_internal_faults_stay_masked(db_url: str, gql: GraphQLClient) -> None:
    """A real fault under a variable-carrying mutation still answers "Unexpected error." (see test_logging too)."""
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE accounts ADD CONSTRAINT no_accounts CHECK (false) NOT VALID"))
    finally:
        await engine.dispose()
    variables = {"input": {"region": "US", "externalId": "x", "kind": "CREATOR", "handle": "h", "displayName": "d"}}
    body = await gql(flows.UPSERT_ACCOUNT, variables, token=platform)
    assert [e["message"] for e in body["errors"]] == ["Unexpected error."]
    assert "no_accounts" not in str(body)


async def test_a_refused_field_beside_a_shared_loader_key_is_no_500(db_url: str, http: httpx.AsyncClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    moderator = await issue_staff_token(db_url, "moderator", "US")  # no audit:read: `history` is refused
    gql = GraphQLClient(http)
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    video = await flows.content(gql, platform, await flows.account(gql, platform, "creator"), "video")
    report = await flows.report(gql, platform, video, hate)
    case_id = (
        await gql(
            "query($id: ID!) { node(id: $id) { ... on Report { case { id } } } }",
            {"id": report["report"]["id"]},
            token=admin,
        )
    )["data"]["node"]["case"]["id"]
    query = (
        "query($id: ID!) { c: node(id: $id) { ... on Case { subject { __typename } history { nodes { action } } } } "
        "d: node(id: $id) { ... on Case { subject { __typename } } } }"
    )

    for _ in range(3):
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": {"id": case_id}},
            headers={"Authorization": f"Bearer {moderator}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"]["d"] == {"subject": {"__typename": "Content"}}
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_a_client_that_disconnects_is_a_499_at_info(db_url: str, logs: LogLines) -> None:
    app = create_app(Settings(env="test"), database_url=db_url)  # type: ignore[arg-type]
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}  # the client went away before its body arrived

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"30")],
        "client": ("127.0.0.1", 5000),
        "server": ("vigil.test", 80),
    }
    async with app.router.lifespan_context(app):
        await app(scope, receive, send)  # raises nothing

    [line] = [r for r in logs.records if r.name == "vigil.http"]
    assert line.levelno == logging.INFO
    assert line.status == 499  # type: ignore[attr-defined]
    assert not logs.tracebacks()
    assert not logs.at_least(logging.WARNING)
