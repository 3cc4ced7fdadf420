"""Staff login with OIDC JWTs, through the real app and database: the token names a staff principal, whose
roles come from the database; every forged, stale or foreign token is UNAUTHENTICATED."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from api.app import create_app
from api.oidc_fetch import build_oidc_verifier
from api.settings import Environment, Settings
from persistence.db import create_engine, create_session_factory
from persistence.principals import SYSTEM_AUDIT, ensure_partner, ensure_staff
from persistence.uow import SqlUnitOfWork
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_staff_token
from tests.jwt_issuer import AUDIENCE, ISSUER, FakeIssuer, tamper

PROTECTED = "{ apiTokens(first: 5) { edges { node { id } } } }"
VIEWER = "{ viewer { id kind displayName authenticated roles { role region } } }"


def _oidc_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"env": Environment.TEST, "oidc_issuer": ISSUER, "oidc_audience": AUDIENCE}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def issuer() -> FakeIssuer:
    return FakeIssuer()


@pytest.fixture
async def oidc_gql(db_url: str, issuer: FakeIssuer) -> AsyncIterator[GraphQLClient]:
    """The app with OIDC on, its issuer's documents served by ``issuer.fetch`` (no network)."""
    app = create_app(_oidc_settings(), database_url=db_url, oidc_fetch=issuer.fetch)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            yield GraphQLClient(client)


async def _staff(db_url: str, name: str, *roles: tuple[str, str]) -> None:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            for role, region in roles:
                await ensure_staff(uow, name=name, display_name=name.title(), role=role, region=region)
    finally:
        await engine.dispose()


async def _refused(gql: GraphQLClient, token: str) -> str:
    body = await gql(PROTECTED, token=token)
    assert body["data"] == {"apiTokens": None}
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    viewer = await gql(VIEWER, token=token)
    assert viewer["data"]["viewer"]["authenticated"] is False
    message: str = error["message"]
    return message


async def test_a_valid_jwt_authenticates_the_staff_member_with_database_roles(
    db_url: str, oidc_gql: GraphQLClient, issuer: FakeIssuer
) -> None:
    await _staff(db_url, "alice", ("admin", "*"), ("moderator", "EU"))
    token = issuer.token(sub="alice")
    viewer = (await oidc_gql(VIEWER, token=token))["data"]["viewer"]
    assert viewer["kind"] == "STAFF"
    assert viewer["authenticated"] is True
    assert viewer["displayName"] == "Alice"
    assert viewer["roles"] == [{"role": "admin", "region": "*"}, {"role": "moderator", "region": "EU"}]
    body = await oidc_gql(PROTECTED, token=token)
    assert "errors" not in body
    assert body["data"]["apiTokens"]["edges"] == []


async def test_an_ec_signed_jwt_works_too(db_url: str, oidc_gql: GraphQLClient, issuer: FakeIssuer) -> None:
    await _staff(db_url, "alice", ("admin", "*"))
    body = await oidc_gql(PROTECTED, token=issuer.token(kid="ec-1", alg="ES256", sub="alice"))
    assert "errors" not in body


async def test_roles_in_the_token_grant_nothing(db_url: str, oidc_gql: GraphQLClient, issuer: FakeIssuer) -> None:
    await _staff(db_url, "bob", ("moderator", "US"))
    token = issuer.token(sub="bob", roles=["admin"], groups=["admin"], scope="tokens:read")
    viewer = (await oidc_gql(VIEWER, token=token))["data"]["viewer"]
    assert viewer["roles"] == [{"role": "moderator", "region": "US"}]
    body = await oidc_gql(PROTECTED, token=token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_api_tokens_keep_working_with_oidc_on(db_url: str, oidc_gql: GraphQLClient) -> None:
    token = await issue_staff_token(db_url, "admin", "*")
    assert "errors" not in await oidc_gql(PROTECTED, token=token)
    body = await oidc_gql(PROTECTED, token="vgl_" + "A" * 43)
    assert body["errors"][0]["message"] == "the token is invalid"


def _now() -> int:
    return int(time.time())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda i: i.token(sub="alice", exp=_now() - 3600), "the token is expired"),
        (lambda i: i.token(sub="alice", aud="another-api"), "the token is meant for another audience"),
        (lambda i: i.token(sub="alice", iss="https://evil.example.test"), "the token is from another issuer"),
        (lambda i: tamper(i.token(sub="bob")), "the token's signature is invalid"),
        (
            lambda i: i.token(
                sub="alice", kid="unknown", key=rsa.generate_private_key(public_exponent=65537, key_size=2048)
            ),
            "the token is signed with an unknown key",
        ),
        (lambda i: i.unsigned_token(sub="alice"), "the token's signing algorithm is not accepted"),
        (lambda i: i.hmac_with_public_key(sub="alice"), "the token's signing algorithm is not accepted"),
        (lambda i: i.token(sub=None), "the token lacks a required claim"),
        (
            lambda i: i.token(sub="alice", exp=_now() + 100 * 365 * 86400),
            "the token lives longer than this server accepts",
        ),
    ],
    ids=[
        "expired",
        "audience",
        "issuer",
        "tampered",
        "unknown-kid",
        "alg-none",
        "hs256-public-key",
        "no-sub",
        "a-century",
    ],
)
async def test_bad_jwts_are_unauthenticated(
    db_url: str, oidc_gql: GraphQLClient, issuer: FakeIssuer, make: Any, message: str
) -> None:
    await _staff(db_url, "alice", ("admin", "*"))
    assert await _refused(oidc_gql, make(issuer)) == message


async def test_an_unknown_subject_is_unauthenticated(oidc_gql: GraphQLClient, issuer: FakeIssuer) -> None:
    assert await _refused(oidc_gql, issuer.token(sub="nobody")) == "unknown staff member"


async def test_a_partner_name_as_subject_is_not_staff(db_url: str, oidc_gql: GraphQLClient, issuer: FakeIssuer) -> None:
    engine = create_engine(db_url, pool_size=1)
    async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
        await ensure_partner(uow, "acme")
    await engine.dispose()
    assert await _refused(oidc_gql, issuer.token(sub="acme")) == "unknown staff member"


async def test_a_jwt_is_refused_when_oidc_is_off(db_url: str, gql: GraphQLClient, issuer: FakeIssuer) -> None:
    await _staff(db_url, "alice", ("admin", "*"))
    message = await _refused(gql, issuer.token(sub="alice"))
    assert message == "the Authorization header must be `Bearer <token>` with a Vigil token"


async def test_unreachable_issuer_is_unauthenticated(db_url: str, issuer: FakeIssuer) -> None:
    async def down(url: str) -> dict[str, Any]:
        raise OSError(f"connect to {url}: connection refused")

    await _staff(db_url, "alice", ("admin", "*"))
    app = create_app(_oidc_settings(), database_url=db_url, oidc_fetch=down)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
            message = await _refused(GraphQLClient(client), issuer.token(sub="alice"))
    assert message == "the token cannot be verified now: the issuer's keys are unavailable"


# -- settings ------------------------------------------------------------------------------------------------


def test_oidc_is_off_unless_issuer_and_audience_are_both_set() -> None:
    assert not Settings(env=Environment.TEST).oidc_enabled
    assert not Settings(env=Environment.TEST, oidc_issuer=ISSUER).oidc_enabled
    assert build_oidc_verifier(Settings(env=Environment.TEST, oidc_audience=AUDIENCE)) is None
    assert _oidc_settings().oidc_enabled
    verifier = build_oidc_verifier(_oidc_settings(oidc_subject_claim="email", oidc_algorithms=["ES256"]))
    assert verifier is not None
    assert (verifier.issuer, verifier.audience, verifier.subject_claim, verifier.algorithms) == (
        ISSUER,
        AUDIENCE,
        "email",
        ("ES256",),
    )


def test_oidc_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("VIGIL_OIDC_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("VIGIL_OIDC_ALGORITHMS", "RS256, PS256")
    monkeypatch.setenv("VIGIL_OIDC_JWKS_CACHE_SECONDS", "60")
    settings = Settings(env=Environment.TEST)
    assert settings.oidc_enabled
    assert settings.oidc_algorithms == ["RS256", "PS256"]
    assert settings.oidc_jwks_cache_seconds == 60
    assert settings.oidc_jwks_url is None
    monkeypatch.setenv("VIGIL_OIDC_ALGORITHMS", '["ES256"]')
    assert Settings(env=Environment.TEST).oidc_algorithms == ["ES256"]


def test_the_maximum_jwt_lifetime_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _oidc_settings().oidc_max_token_lifetime == 24 * 3600
    monkeypatch.setenv("VIGIL_OIDC_MAX_TOKEN_LIFETIME", "8h")
    verifier = build_oidc_verifier(_oidc_settings())
    assert verifier is not None
    assert verifier.max_lifetime_seconds == 8 * 3600
    monkeypatch.setenv("VIGIL_OIDC_MAX_TOKEN_LIFETIME", "600")
    assert _oidc_settings().oidc_max_token_lifetime == 600
    for wrong in ("forever", "10"):
        monkeypatch.setenv("VIGIL_OIDC_MAX_TOKEN_LIFETIME", wrong)
        with pytest.raises(ValidationError):
            _oidc_settings()


@pytest.mark.parametrize("algorithms", [["HS256"], ["none"], []])
def test_symmetric_algorithms_cannot_be_configured(algorithms: list[str]) -> None:
    with pytest.raises(ValidationError, match="algorithm"):
        _oidc_settings(oidc_algorithms=algorithms)


def test_production_needs_https_for_the_issuer() -> None:
    with pytest.raises(ValidationError, match="https"):
        _oidc_settings(env=Environment.PRODUCTION, oidc_issuer="http://login.example.test")
    assert _oidc_settings(env=Environment.PRODUCTION).oidc_enabled
