"""Bearer tokens: a missing, malformed, unknown, expired or revoked token never reaches a protected field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authz.tokens import new_token_secret
from persistence.db import create_engine, create_session_factory
from persistence.principals import SYSTEM_AUDIT, create_token, ensure_staff, revoke_token
from persistence.uow import SqlUnitOfWork
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_staff_token

PROTECTED = "{ apiTokens(first: 1) { edges { node { id } } } }"


async def _code(gql: GraphQLClient, token: str | None) -> tuple[str, str, object]:
    body = await gql(PROTECTED, token=token)
    error = body["errors"][0]
    return error["extensions"]["code"], error["message"], body["data"]


async def test_a_valid_admin_token_reads_the_protected_field(db_url: str, gql: GraphQLClient) -> None:
    token = await issue_staff_token(db_url, "admin", "*")
    body = await gql(PROTECTED, token=token)
    assert "errors" not in body
    assert len(body["data"]["apiTokens"]["edges"]) == 1


async def test_missing_token_is_unauthenticated(gql: GraphQLClient) -> None:
    code, message, data = await _code(gql, None)
    assert code == "UNAUTHENTICATED"
    assert "Authorization: Bearer" in message
    assert data == {"apiTokens": None}  # the refused field alone is null


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-vigil-token", "Bearer a b"])
async def test_malformed_header_is_unauthenticated(gql: GraphQLClient, header: str) -> None:
    response = await gql.http.post("/graphql", json={"query": PROTECTED}, headers={"Authorization": header})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.json()["data"] == {"apiTokens": None}


async def test_unknown_token_is_unauthenticated(gql: GraphQLClient) -> None:
    code, message, _ = await _code(gql, new_token_secret())
    assert (code, message) == ("UNAUTHENTICATED", "the token is invalid")


async def test_expired_token_is_unauthenticated(db_url: str, gql: GraphQLClient) -> None:
    issued = datetime.now(UTC) - timedelta(days=2)
    engine = create_engine(db_url, pool_size=1)
    async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
        admin = await ensure_staff(uow, name="admin-global", display_name="Admin", role="admin", region="*")
        _, secret = await create_token(
            uow,
            principal_id=admin,
            name="short-lived",
            scopes=None,
            region=None,
            issued_by=None,
            expires_at=issued + timedelta(days=1),
            now=issued,
        )
    await engine.dispose()
    code, message, _ = await _code(gql, secret)
    assert (code, message) == ("UNAUTHENTICATED", "the token is expired")


async def test_revoked_token_is_unauthenticated(db_url: str, gql: GraphQLClient) -> None:
    now = datetime.now(UTC)
    engine = create_engine(db_url, pool_size=1)
    async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
        admin = await ensure_staff(uow, name="admin-global", display_name="Admin", role="admin", region="*")
        record, secret = await create_token(
            uow,
            principal_id=admin,
            name="to revoke",
            scopes=None,
            region=None,
            issued_by=None,
            expires_at=now + timedelta(days=1),
            now=now,
        )
    assert (await gql(PROTECTED, token=secret)).get("errors") is None
    async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
        await revoke_token(uow, record.id, datetime.now(UTC))
    await engine.dispose()
    code, message, _ = await _code(gql, secret)
    assert (code, message) == ("UNAUTHENTICATED", "the token is revoked")


async def test_a_bad_token_is_refused_even_on_public_fields_it_does_not_upgrade(gql: GraphQLClient) -> None:
    """`viewer` is public: with an unknown token it answers as anonymous, never as someone."""
    body = await gql("{ viewer { kind authenticated } }", token=new_token_secret())
    assert body["data"]["viewer"] == {"kind": "ANONYMOUS", "authenticated": False}
