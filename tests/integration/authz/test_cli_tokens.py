"""`vigil token issue | revoke | list`, run as a user would: a subprocess against the test database."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from authz.tokens import is_well_formed
from persistence.db import create_engine, create_session_factory
from persistence.principals import list_tokens
from tests.integration.conftest import GraphQLClient

VIGIL = str(Path(sys.executable).parent / "vigil")
VIEWER = "{ viewer { kind displayName roles { role region } permissions { permission regions } } }"


async def vigil(db_url: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "VIGIL_DATABASE_URL": db_url, "COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(
        VIGIL, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_issue_prints_the_token_alone_on_the_last_line(db_url: str, gql: GraphQLClient) -> None:
    code, out, err = await vigil(db_url, "token", "issue", "--role", "moderator", "--region", "US", "--expires", "2h")
    assert code == 0, err
    secret = out.splitlines()[-1]
    assert is_well_formed(secret)
    assert out == secret + "\n"  # explanations go to stderr
    assert "moderator-US" in err

    viewer = (await gql(VIEWER, token=secret))["data"]["viewer"]
    assert viewer["kind"] == "STAFF"
    assert viewer["displayName"] == "moderator-US"
    assert viewer["roles"] == [{"role": "moderator", "region": "US"}]

    # A second token for the same role and region reuses the principal.
    code, out, err = await vigil(db_url, "token", "issue", "--role", "moderator", "--region", "US")
    assert code == 0, err
    engine = create_engine(db_url, pool_size=1)
    async with create_session_factory(engine)() as session:
        tokens = (await list_tokens(session, first=10, after=None)).items
    await engine.dispose()
    assert len(tokens) == 2
    assert len({t.principal_id for t in tokens}) == 1


async def test_partner_token_then_revoke(db_url: str, gql: GraphQLClient) -> None:
    code, out, err = await vigil(
        db_url, "token", "issue", "--partner", "acme", "--scopes", "trusted_flagger,cases:read", "--region", "EU"
    )
    assert code == 0, err
    secret = out.splitlines()[-1]
    viewer = (await gql(VIEWER, token=secret))["data"]["viewer"]
    assert viewer["kind"] == "PARTNER"
    assert [p["permission"] for p in viewer["permissions"]] == ["cases:read", "reports:create", "reports:read_own"]

    engine = create_engine(db_url, pool_size=1)
    async with create_session_factory(engine)() as session:
        (token,) = (await list_tokens(session, first=10, after=None)).items
    await engine.dispose()
    code, out, err = await vigil(db_url, "token", "list")
    assert code == 0, err
    assert str(token.id) in out
    assert token.prefix in out
    assert secret not in out + err

    code, _, err = await vigil(db_url, "token", "revoke", str(token.id))
    assert code == 0, err
    assert "revoked" in err
    assert (await gql(VIEWER, token=secret))["data"]["viewer"]["kind"] == "ANONYMOUS"


async def test_issue_refuses_bad_requests_and_prints_no_token(db_url: str) -> None:
    attempts = [
        ("--partner", "acme", "--scopes", "reports:create,tokens:issue", "--region", "EU"),
        ("--partner", "acme", "--scopes", "no_such", "--region", "EU"),
        ("--role", "overlord", "--region", "US"),
        ("--role", "moderator", "--region", "MARS"),
        ("--role", "moderator", "--region", "US", "--expires", "forever"),
        ("--role", "moderator", "--partner", "acme", "--region", "US"),
    ]
    for args in attempts:
        code, out, err = await vigil(db_url, "token", "issue", *args)
        assert (code, out) == (2, ""), (args, err)
        assert "error" in err
    code, _, err = await vigil(db_url, "token", "revoke", "00000000-0000-4000-8000-000000000000")
    assert code == 2
    assert "no token" in err
