"""Issue 10 item 2: a NUL (or an unpaired surrogate, which UTF-8 cannot encode) in any string input is refused
with INVALID_INPUT naming the input, before any SQL runs: nothing is written and nothing reaches the log."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts
from tests.security.conftest import LogLines


def _account_input(**overrides: Any) -> dict[str, Any]:
    fields = {"region": "US", "externalId": "acct-1", "kind": "CREATOR", "handle": "h", "displayName": "d"}
    return {"input": {**fields, **overrides}}


def _refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT", error
    return dict(error)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"externalId": "a\u0000b"}, "$input.externalId"),
        ({"email": "pii-victim@example.com\u0000"}, "$input.email"),
        ({"phone": "\ud800"}, "$input.phone"),  # a lone surrogate: valid JSON, not encodable as UTF-8
    ],
    ids=["nul-external-id", "nul-email", "lone-surrogate"],
)
async def test_unstorable_characters_in_variables_are_invalid_input(
    db_url: str, http: httpx.AsyncClient, logs: LogLines, overrides: dict[str, str], field: str
) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    before = await row_counts(db_url)

    # json.dumps escapes as \\u0000 / \\ud800: the JSON a client library sends
    payload = json.dumps({"query": flows.UPSERT_ACCOUNT, "variables": _account_input(**overrides)})
    headers = {"Authorization": f"Bearer {platform}", "Content-Type": "application/json"}
    body = (await http.post("/graphql", content=payload.encode(), headers=headers)).json()

    assert _refusal(body)["extensions"]["field"] == field
    assert await row_counts(db_url) == before
    assert "pii-victim" not in logs.text()
    assert not logs.at_least(logging.ERROR)


async def test_a_nul_in_a_literal_is_invalid_input(db_url: str, gql: GraphQLClient) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    before = await row_counts(db_url)
    document = (
        'mutation { upsertAccount(input: {region: US, externalId: "x\\u0000", kind: CREATOR, handle: "h", '
        'displayName: "d"}) { __typename } }'
    )
    _refusal(await gql(document, token=platform))
    assert await row_counts(db_url) == before


async def test_a_nul_in_a_filter_is_invalid_input(db_url: str, gql: GraphQLClient, logs: LogLines) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    literal = await gql('{ accounts(filter: {externalId: "\\u0000"}) { nodes { id } } }', token=admin)
    _refusal(literal)
    query = "query($f: AccountFilter) { accounts(filter: $f) { nodes { id } } }"
    variable = await gql(query, {"f": {"externalId": "\u0000"}}, token=admin)
    assert _refusal(variable)["extensions"]["field"] == "$f.externalId"
    assert not logs.at_least(logging.ERROR)


async def test_a_nul_in_a_key_is_invalid_input(http: httpx.AsyncClient) -> None:
    query = "query($f: AccountFilter) { accounts(filter: $f) { nodes { id } } }"
    response = await http.post("/graphql", json={"query": query, "variables": {"f": {"k\u0000": 1}}})
    assert response.json()["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "$f"}, response.json()


async def test_ordinary_unicode_is_stored(db_url: str, gql: GraphQLClient) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    body = await gql(flows.UPSERT_ACCOUNT, _account_input(displayName="Zoë 🛡️ 中文"), token=platform)
    assert body["data"]["upsertAccount"]["__typename"] == "UpsertAccountSuccess", body


async def test_plain_variables_are_checked_once_and_nul_ones_still_refused(
    db_url: str, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body's decoding found the variables plain (orjson, no NUL escape, within the depth limit): the GraphQL
    layer's variables check does not walk them again. With a NUL it does, and refuses them."""
    from api.graphql.limits import characters

    walks: list[object] = []
    real = characters.json_depth
    monkeypatch.setattr(characters, "json_depth", lambda value: walks.append(value) or real(value))
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    headers = {"Authorization": f"Bearer {platform}", "Content-Type": "application/json"}

    plain = json.dumps({"query": flows.UPSERT_ACCOUNT, "variables": _account_input(externalId="plain-1")})
    body = (await http.post("/graphql", content=plain.encode(), headers=headers)).json()
    assert body["data"]["upsertAccount"]["__typename"] == "UpsertAccountSuccess", body
    assert walks == []

    nul = json.dumps({"query": flows.UPSERT_ACCOUNT, "variables": _account_input(externalId="a\u0000b")})
    body = (await http.post("/graphql", content=nul.encode(), headers=headers)).json()
    assert _refusal(body)["extensions"]["field"] == "$input.externalId"
