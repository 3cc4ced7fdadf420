"""issueApiToken / revokeApiToken / apiTokens: a token never exceeds its issuer, its secret shows once."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from api.graphql.schema import build_schema
from authz.tokens import hash_token, is_well_formed
from persistence.db import create_engine
from persistence.tables.audit import audit_events
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts

TOKEN_FIELDS = """
    id name prefix scopes region status createdAt expiresAt revokedAt
    principal { id name kind partnerOrg }
"""
ISSUE = f"""
mutation Issue($input: IssueApiTokenInput!) {{
  issueApiToken(input: $input) {{
    __typename
    ... on IssueApiTokenSuccess {{ secret token {{ {TOKEN_FIELDS} }} }}
    ... on Error {{ code message field }}
  }}
}}
"""
REVOKE = f"""
mutation Revoke($id: ID!) {{
  revokeApiToken(input: {{id: $id}}) {{
    __typename
    ... on RevokeApiTokenSuccess {{ token {{ {TOKEN_FIELDS} }} }}
    ... on Error {{ code message field }}
  }}
}}
"""
LIST = f"query List($first: Int!) {{ apiTokens(first: $first) {{ nodes {{ {TOKEN_FIELDS} }} }} }}"
VIEWER = "{ viewer { kind partnerOrg tokenRegion permissions { permission regions } } }"


def _input(**overrides: Any) -> dict[str, Any]:
    return {
        "input": {
            "partnerOrg": "acme-flagging",
            "scopes": ["trusted_flagger"],
            "region": "EU",
            "name": "acme EU flagger",
            **overrides,
        }
    }


async def _issue(gql: GraphQLClient, token: str, **overrides: Any) -> dict[str, Any]:
    body = await gql(ISSUE, _input(**overrides), token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["issueApiToken"]
    return result


async def _audit_rows(db_url: str) -> list[dict[str, Any]]:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.select(audit_events).order_by(audit_events.c.seq))
            return [dict(r._mapping) for r in rows]
    finally:
        await engine.dispose()


async def test_issue_use_revoke_refuse(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    issued = await _issue(gql, admin)
    assert issued["__typename"] == "IssueApiTokenSuccess"
    secret = issued["secret"]
    assert is_well_formed(secret)
    token = issued["token"]
    assert token["prefix"] == secret[:12]
    assert token["scopes"] == ["reports:create", "reports:read_own"]
    assert token["region"] == "EU"
    assert token["status"] == "ACTIVE"
    assert token["principal"]["kind"] == "PARTNER"
    assert token["principal"]["partnerOrg"] == "acme-flagging"

    viewer = (await gql(VIEWER, token=secret))["data"]["viewer"]
    assert viewer["kind"] == "PARTNER"
    assert viewer["tokenRegion"] == "EU"
    assert viewer["permissions"] == [
        {"permission": "reports:create", "regions": ["EU"]},
        {"permission": "reports:read_own", "regions": ["EU"]},
    ]

    revoked = (await gql(REVOKE, {"id": token["id"]}, token=admin))["data"]["revokeApiToken"]
    assert revoked["__typename"] == "RevokeApiTokenSuccess"
    assert revoked["token"]["status"] == "REVOKED"
    assert revoked["token"]["revokedAt"] is not None

    refused = await gql("{ viewer { kind } }", token=secret)
    assert refused["data"]["viewer"]["kind"] == "ANONYMOUS"
    refused = await gql(LIST, {"first": 1}, token=secret)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    again = (await gql(REVOKE, {"id": token["id"]}, token=admin))["data"]["revokeApiToken"]
    assert again["__typename"] == "RevokeApiTokenSuccess"
    actions = [row["action"] for row in await _audit_rows(db_url)]
    assert actions.count("token.revoked") == 1


async def test_regional_admin_cannot_issue_beyond_their_region(db_url: str, gql: GraphQLClient) -> None:
    eu_admin = await issue_staff_token(db_url, "admin", "EU")
    before = await row_counts(db_url)

    us = await _issue(gql, eu_admin, region="US", scopes=["reports:create", "cases:read"])
    assert us == {
        "__typename": "ForbiddenError",
        "code": "FORBIDDEN",
        "message": us["message"],
        "field": "scopes",
    }
    assert "cases:read, reports:create" in us["message"]
    everywhere = await _issue(gql, eu_admin, region="*")
    assert everywhere["__typename"] == "ForbiddenError"
    after = await row_counts(db_url)
    assert {t: n for t, n in after.items() if t != "audit_events"} == {
        t: n for t, n in before.items() if t != "audit_events"
    }
    refusals = (await _audit_rows(db_url))[before["audit_events"] :]
    assert [(r["action"], r["subject_id"]) for r in refusals] == [("security.forbidden", "issueApiToken")] * 2
    assert "cases:read, reports:create" in refusals[0]["reason"]

    eu = await _issue(gql, eu_admin, region="EU")
    assert eu["__typename"] == "IssueApiTokenSuccess"


async def test_partner_token_shrinks_with_its_issuer(db_url: str, gql: GraphQLClient) -> None:
    """Capped at issue time and at every request: the issuer's current roles bound the token."""
    await issue_staff_token(db_url, "moderator", "EU", name="alice")
    admin = await issue_staff_token(db_url, "admin", "EU", name="alice")
    issued = await _issue(gql, admin, scopes=["cases:read", "queues:manage"])
    assert issued["__typename"] == "IssueApiTokenSuccess"
    engine = create_engine(db_url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(sa.text("DELETE FROM role_assignments WHERE role = 'admin'"))
    await engine.dispose()
    viewer = (await gql(VIEWER, token=issued["secret"]))["data"]["viewer"]
    assert viewer["permissions"] == [{"permission": "cases:read", "regions": ["EU"]}]


async def test_token_management_is_never_delegated(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    refused = await _issue(gql, admin, scopes=["tokens:issue", "tokens:revoke", "reports:create"])
    assert refused["__typename"] == "ForbiddenError"
    assert "tokens:issue, tokens:revoke" in refused["message"]
    assert "reports:create" not in refused["message"]

    # Even a token stored with those scopes (bypassing the API) holds neither.
    partner = await issue_partner_token(db_url, "sneaky", ["tokens:issue", "tokens:revoke", "tokens:read"], "*")
    viewer = (await gql(VIEWER, token=partner))["data"]["viewer"]
    assert viewer["permissions"] == [{"permission": "tokens:read", "regions": ["*"]}]
    body = await gql(ISSUE, _input(), token=partner)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None


async def test_invalid_input_is_a_typed_error(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    before = await row_counts(db_url)
    cases: dict[str, dict[str, Any]] = {
        "scopes": {"scopes": ["reports:create", "no_such_scope"]},
        "region": {"region": "MARS"},
        "expiresIn": {"expiresIn": "forever"},
        "partnerOrg": {"partnerOrg": "  "},
        "name": {"name": ""},
    }
    for field, overrides in cases.items():
        result = await _issue(gql, admin, **overrides)
        assert (result["__typename"], result["code"], result["field"]) == ("InvalidInputError", "INVALID_INPUT", field)
    assert "no_such_scope" in (await _issue(gql, admin, **cases["scopes"]))["message"]
    assert await row_counts(db_url) == before


async def test_a_missing_permission_is_forbidden_and_writes_nothing(db_url: str, gql: GraphQLClient) -> None:
    moderator = await issue_staff_token(db_url, "moderator", "US")
    admin = await issue_staff_token(db_url, "admin", "*")
    issued = await _issue(gql, admin)
    before = await row_counts(db_url)

    body = await gql(ISSUE, _input(), token=moderator)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "tokens:issue" in body["errors"][0]["message"]
    body = await gql(REVOKE, {"id": issued["token"]["id"]}, token=moderator)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await gql(LIST, {"first": 10}, token=moderator)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    after = await row_counts(db_url)
    assert {t: n for t, n in after.items() if t != "audit_events"} == {
        t: n for t, n in before.items() if t != "audit_events"
    }
    refusals = (await _audit_rows(db_url))[before["audit_events"] :]
    assert [(r["action"], r["subject_id"]) for r in refusals] == [
        ("security.forbidden", "issueApiToken"),
        ("security.forbidden", "revokeApiToken"),
    ]
    assert (await gql(VIEWER, token=issued["secret"]))["data"]["viewer"]["kind"] == "PARTNER"


async def test_the_secret_is_shown_once(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    issued = await _issue(gql, admin)
    secret = issued["secret"]

    listed = await gql(LIST, {"first": 100}, token=admin)
    text = json.dumps(listed)
    assert issued["token"]["id"] in text
    assert secret not in text
    assert hash_token(secret) not in text
    audit = json.dumps(await _audit_rows(db_url), default=str)
    assert secret not in audit
    assert hash_token(secret) not in audit
    assert "token.issued" in audit

    api_token = build_schema().get_type_by_name("ApiToken")
    assert api_token is not None
    names = {f.name for f in api_token.fields}  # type: ignore[union-attr]
    assert not {"secret", "token_hash", "hash"} & names


async def test_regional_readers_see_their_regions_tokens(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    us_admin = await issue_staff_token(db_url, "admin", "US")
    assert (await _issue(gql, admin, region="EU", name="eu"))["__typename"] == "IssueApiTokenSuccess"
    assert (await _issue(gql, admin, region="US", name="us"))["__typename"] == "IssueApiTokenSuccess"
    # acme-flagging now operates in EU too: a token for it is beyond a US admin, a US-only organisation is not.
    assert (await _issue(gql, us_admin, region="US", name="mine"))["__typename"] == "ForbiddenError"
    mine = await _issue(gql, us_admin, region="US", name="mine", partnerOrg="acme-us")
    assert mine["__typename"] == "IssueApiTokenSuccess"

    everything = (await gql(LIST, {"first": 100}, token=admin))["data"]["apiTokens"]["nodes"]
    assert {t["name"] for t in everything} == {"eu", "us", "mine", "admin-global (test)", "admin-US (test)"}
    us_view = (await gql(LIST, {"first": 100}, token=us_admin))["data"]["apiTokens"]["nodes"]
    assert sorted(t["name"] for t in us_view) == ["admin-US (test)", "mine", "us"]

    eu_token = next(t for t in everything if t["name"] == "eu")
    hidden = (await gql(REVOKE, {"id": eu_token["id"]}, token=us_admin))["data"]["revokeApiToken"]
    assert (hidden["__typename"], hidden["code"]) == ("NotFoundError", "NOT_FOUND")
    wrong_kind = (await gql(REVOKE, {"id": "bm90OmFuLWlk"}, token=admin))["data"]["revokeApiToken"]
    assert (wrong_kind["__typename"], wrong_kind["field"]) == ("InvalidInputError", "id")


async def test_api_tokens_pages_with_cursors(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    for i in range(4):
        assert (await _issue(gql, admin, name=f"t{i}"))["__typename"] == "IssueApiTokenSuccess"
    query = """query P($after: String) {
      apiTokens(first: 2, after: $after) { pageInfo { hasNextPage endCursor } nodes { name } }
    }"""
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = (await gql(query, {"after": after}, token=admin))["data"]["apiTokens"]
        seen += [n["name"] for n in page["nodes"]]
        after = page["pageInfo"]["endCursor"]
    assert seen == ["t3", "t2", "t1", "t0", "admin-global (test)"]
    assert page["pageInfo"]["hasNextPage"] is False
    too_many = (await gql("{ apiTokens(first: 101) { nodes { id } } }", token=admin))["errors"][0]
    assert too_many["extensions"] == {"code": "BAD_REQUEST", "field": "first"}
    bad_cursor = (await gql('{ apiTokens(first: 1, after: "nope") { nodes { id } } }', token=admin))["errors"][0]
    assert bad_cursor["extensions"] == {"code": "BAD_REQUEST", "field": "after"}
