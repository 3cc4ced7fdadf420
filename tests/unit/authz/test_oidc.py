"""Staff JWTs: verification failures each have their own reason, the key cache refreshes sparingly."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authz.oidc import (
    DEFAULT_MAX_LIFETIME_SECONDS,
    JwksCache,
    JwksFetchError,
    OidcError,
    OidcProblem,
    OidcVerifier,
    check_algorithms,
    usable_keys,
    verify_jwt,
)
from authz.tokens import BearerError, BearerJwt, BearerToken, looks_like_jwt, parse_bearer
from tests.jwt_issuer import AUDIENCE, ISSUER, JWKS_URL, FakeIssuer, tamper

ALGORITHMS = ("RS256", "ES256")


@pytest.fixture(scope="module")
def issuer() -> FakeIssuer:
    return FakeIssuer()


def _verify(issuer: FakeIssuer, token: str, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "algorithms": ALGORITHMS,
        "keys": usable_keys(issuer.jwks()),
    }
    arguments.update(overrides)
    return verify_jwt(token, **arguments)


def _problem(issuer: FakeIssuer, token: str, **overrides: Any) -> OidcProblem:
    with pytest.raises(OidcError) as caught:
        _verify(issuer, token, **overrides)
    return caught.value.problem


def test_a_valid_rsa_token_verifies(issuer: FakeIssuer) -> None:
    claims = _verify(issuer, issuer.token(sub="moderator-US"))
    assert claims["sub"] == "moderator-US"
    assert claims["iss"] == ISSUER


def test_a_valid_ec_token_verifies(issuer: FakeIssuer) -> None:
    assert _verify(issuer, issuer.token(kid="ec-1", alg="ES256", sub="x"))["sub"] == "x"


def test_an_audience_list_containing_ours_verifies(issuer: FakeIssuer) -> None:
    assert _verify(issuer, issuer.token(aud=["other", AUDIENCE]))["aud"] == ["other", AUDIENCE]


def test_roles_in_the_token_are_only_claims(issuer: FakeIssuer) -> None:
    """verify_jwt returns claims; nothing turns them into roles (the database does that)."""
    claims = _verify(issuer, issuer.token(roles=["admin"]))
    assert claims["roles"] == ["admin"]


@pytest.mark.parametrize(
    ("claims", "problem"),
    [
        ({"exp": int(time.time()) - 3600}, OidcProblem.EXPIRED),
        ({"nbf": int(time.time()) + 3600}, OidcProblem.NOT_YET_VALID),
        ({"aud": "someone-else"}, OidcProblem.WRONG_AUDIENCE),
        ({"iss": "https://evil.example.test"}, OidcProblem.WRONG_ISSUER),
        ({"iss": ISSUER + "x"}, OidcProblem.WRONG_ISSUER),
        ({"exp": None}, OidcProblem.MISSING_CLAIM),
        ({"aud": None}, OidcProblem.MISSING_CLAIM),
        ({"iss": None}, OidcProblem.MISSING_CLAIM),
    ],
)
def test_claim_failures(issuer: FakeIssuer, claims: dict[str, Any], problem: OidcProblem) -> None:
    assert _problem(issuer, issuer.token(**claims)) is problem


def test_a_small_clock_skew_is_tolerated(issuer: FakeIssuer) -> None:
    assert _verify(issuer, issuer.token(exp=int(time.time()) - 5))["sub"] == "someone"


CENTURY = 100 * 365 * 24 * 3600


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) + CENTURY},  # issued now, valid for a century
        {"exp": int(time.time()) + CENTURY, "iat": None},  # no iat: counted from now
        {"exp": int(time.time()) + 3600, "iat": int(time.time()) - CENTURY},  # an old iat counts from then
        {"exp": int(time.time()) + DEFAULT_MAX_LIFETIME_SECONDS + 3600},  # an hour beyond the default day
    ],
)
def test_a_token_living_beyond_the_maximum_is_refused(issuer: FakeIssuer, claims: dict[str, Any]) -> None:
    assert _problem(issuer, issuer.token(**claims)) is OidcProblem.LIFETIME_TOO_LONG


def test_the_maximum_lifetime_is_configurable_and_allows_the_clock_skew(issuer: FakeIssuer) -> None:
    now = int(time.time())
    week = issuer.token(iat=now, exp=now + 7 * 24 * 3600)
    assert _problem(issuer, week) is OidcProblem.LIFETIME_TOO_LONG
    assert _verify(issuer, week, max_lifetime=7 * 24 * 3600, now=now)["sub"] == "someone"
    hour = issuer.token(iat=now, exp=now + 3600)
    assert _verify(issuer, hour, max_lifetime=3600, now=now)["sub"] == "someone"
    assert _problem(issuer, issuer.token(iat=now, exp=now + 3631), max_lifetime=3600, now=now) is (
        OidcProblem.LIFETIME_TOO_LONG
    )
    assert OidcProblem.LIFETIME_TOO_LONG.message == "the token lives longer than this server accepts"


def test_tampered_claims_fail_the_signature(issuer: FakeIssuer) -> None:
    assert _problem(issuer, tamper(issuer.token())) is OidcProblem.BAD_SIGNATURE


def test_a_token_signed_by_another_key_with_a_known_kid_fails_the_signature(issuer: FakeIssuer) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _problem(issuer, issuer.token(key=stranger)) is OidcProblem.BAD_SIGNATURE


def test_an_unknown_kid_is_an_unknown_key(issuer: FakeIssuer) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _problem(issuer, issuer.token(kid="rotated-away", key=stranger)) is OidcProblem.UNKNOWN_KEY


def test_alg_none_is_refused(issuer: FakeIssuer) -> None:
    assert _problem(issuer, issuer.unsigned_token()) is OidcProblem.UNSUPPORTED_ALGORITHM


def test_hs256_signed_with_the_public_key_is_refused(issuer: FakeIssuer) -> None:
    assert _problem(issuer, issuer.hmac_with_public_key()) is OidcProblem.UNSUPPORTED_ALGORITHM


def test_an_algorithm_outside_the_allow_list_is_refused(issuer: FakeIssuer) -> None:
    token = issuer.token(alg="RS384")
    assert _problem(issuer, token) is OidcProblem.UNSUPPORTED_ALGORITHM
    assert _verify(issuer, token, algorithms=["RS384"])["sub"] == "someone"


def test_a_key_of_the_wrong_type_for_the_algorithm_is_refused(issuer: FakeIssuer) -> None:
    """ES256 header pointing at the RSA key: refused before any signature check."""
    token = issuer.token(kid="rsa-1", alg="ES256", key=issuer.ec_key)
    assert _problem(issuer, token) is OidcProblem.UNSUPPORTED_ALGORITHM


def test_a_key_declaring_another_alg_is_refused(issuer: FakeIssuer) -> None:
    keys = {kid: {**jwk, "alg": "RS512"} for kid, jwk in usable_keys(issuer.jwks()).items()}
    assert _problem(issuer, issuer.token(), keys=keys) is OidcProblem.UNSUPPORTED_ALGORITHM


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "!!.??.**", "eyJ.eyJ.sig"])
def test_garbage_is_malformed(issuer: FakeIssuer, token: str) -> None:
    assert _problem(issuer, token) is OidcProblem.MALFORMED


@pytest.mark.parametrize("algorithms", [[], ["none"], ["HS256"], ["RS256", "HS512"], ["XX999"]])
def test_symmetric_or_unknown_algorithms_cannot_be_configured(algorithms: list[str]) -> None:
    with pytest.raises(ValueError, match="algorithm"):
        check_algorithms(algorithms)


def test_problems_have_client_messages() -> None:
    assert OidcProblem.EXPIRED.message == "the token is expired"
    assert all(problem.message.startswith("the token") for problem in OidcProblem)


def test_usable_keys_skip_symmetric_encryption_and_kidless_keys(issuer: FakeIssuer) -> None:
    document = issuer.jwks()
    rsa_jwk = document["keys"][0]
    document["keys"] += [
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        {**rsa_jwk, "kid": "enc", "use": "enc"},
        {k: v for k, v in rsa_jwk.items() if k != "kid"},
        "not a key",
    ]
    assert sorted(usable_keys(document)) == ["ec-1", "rsa-1"]
    with pytest.raises(JwksFetchError):
        usable_keys({"no": "keys"})


# -- parse_bearer: JWTs only when OIDC is on ---------------------------------------------------------------


def test_parse_bearer_refuses_a_jwt_unless_allowed(issuer: FakeIssuer) -> None:
    token = issuer.token()
    assert looks_like_jwt(token)
    assert parse_bearer(f"Bearer {token}") is BearerError.MALFORMED
    assert parse_bearer(f"Bearer {token}", allow_jwt=True) == BearerJwt(token)
    assert token not in repr(BearerJwt(token))


def test_parse_bearer_keeps_vigil_tokens_apart() -> None:
    secret = "vgl_" + "A" * 43
    assert parse_bearer(f"Bearer {secret}", allow_jwt=True) == BearerToken(secret)
    assert parse_bearer("Bearer vgl_a.b.c", allow_jwt=True) is BearerError.MALFORMED
    assert parse_bearer("Bearer not-a-jwt", allow_jwt=True) is BearerError.MALFORMED
    assert parse_bearer("Bearer " + "a." * 10_000 + "b", allow_jwt=True) is BearerError.MALFORMED


# -- JwksCache --------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cache(issuer: FakeIssuer, clock: Clock, *, jwks_url: str | None = None, ttl: float = 300) -> JwksCache:
    return JwksCache(issuer=ISSUER, fetch=issuer.fetch, jwks_url=jwks_url, ttl_seconds=ttl, clock=clock)


async def test_keys_are_discovered_fetched_once_and_cached() -> None:
    issuer, clock = FakeIssuer(), Clock()
    cache = _cache(issuer, clock)
    assert sorted(await cache.keys("rsa-1")) == ["ec-1", "rsa-1"]
    assert sorted(await cache.keys("rsa-1")) == ["ec-1", "rsa-1"]
    assert issuer.requests == [ISSUER + "/.well-known/openid-configuration", JWKS_URL]


async def test_a_configured_jwks_url_skips_discovery() -> None:
    issuer, clock = FakeIssuer(), Clock()
    await _cache(issuer, clock, jwks_url=JWKS_URL).keys()
    assert issuer.requests == [JWKS_URL]


async def test_discovery_must_name_the_same_issuer() -> None:
    issuer, clock = FakeIssuer(), Clock()

    async def lying(url: str) -> Mapping[str, Any]:
        document = dict(await issuer.fetch(url))
        return {**document, "issuer": "https://evil.example.test"} if "openid-configuration" in url else document

    cache = JwksCache(issuer=ISSUER, fetch=lying, clock=clock)
    with pytest.raises(OidcError) as caught:
        await cache.keys()
    assert caught.value.problem is OidcProblem.KEYS_UNAVAILABLE


async def test_an_unknown_kid_refreshes_at_most_once_a_minute() -> None:
    issuer, clock = FakeIssuer(), Clock()
    cache = _cache(issuer, clock, jwks_url=JWKS_URL)
    await cache.keys("rsa-1")
    clock.now += 61
    issuer.publish("rsa-2", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert "rsa-2" in await cache.keys("rsa-2")  # rotated key: refreshed
    assert len(issuer.requests) == 2
    for _ in range(5):
        assert "forged" not in await cache.keys("forged")
    assert len(issuer.requests) == 2  # within the minute: no refetch
    clock.now += 61
    await cache.keys("forged")
    assert len(issuer.requests) == 3


async def test_keys_expire_after_the_ttl() -> None:
    issuer, clock = FakeIssuer(), Clock()
    cache = _cache(issuer, clock, jwks_url=JWKS_URL, ttl=120)
    await cache.keys()
    clock.now += 100
    await cache.keys()
    assert len(issuer.requests) == 1
    clock.now += 30
    await cache.keys()
    assert len(issuer.requests) == 2


async def test_a_failed_refresh_keeps_the_known_keys() -> None:
    issuer, clock = FakeIssuer(), Clock()
    cache = _cache(issuer, clock, jwks_url=JWKS_URL, ttl=120)
    await cache.keys()
    issuer.down = True
    clock.now += 200
    assert "rsa-1" in await cache.keys()
    assert len(issuer.requests) == 2


async def test_no_keys_at_all_is_keys_unavailable_and_retried_after_a_minute() -> None:
    issuer, clock = FakeIssuer(), Clock()
    issuer.down = True
    cache = _cache(issuer, clock, jwks_url=JWKS_URL)
    for _ in range(3):
        with pytest.raises(OidcError) as caught:
            await cache.keys()
        assert caught.value.problem is OidcProblem.KEYS_UNAVAILABLE
    assert len(issuer.requests) == 1
    issuer.down = False
    clock.now += 61
    assert "rsa-1" in await cache.keys()


# -- OidcVerifier ---------------------------------------------------------------------------------------------


async def test_the_verifier_returns_the_configured_subject_claim() -> None:
    issuer, clock = FakeIssuer(), Clock()
    verifier = OidcVerifier(
        issuer=ISSUER, audience=AUDIENCE, keys=_cache(issuer, clock), subject_claim="preferred_username"
    )
    assert await verifier.subject(issuer.token(preferred_username="moderator-US")) == "moderator-US"
    with pytest.raises(OidcError) as caught:
        await verifier.subject(issuer.token())
    assert caught.value.problem is OidcProblem.MISSING_CLAIM


async def test_the_verifier_refuses_a_bad_algorithm_before_fetching_keys() -> None:
    issuer, clock = FakeIssuer(), Clock()
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, keys=_cache(issuer, clock))
    for token in (issuer.unsigned_token(kid="x1"), issuer.hmac_with_public_key(kid="x2")):
        with pytest.raises(OidcError) as caught:
            await verifier.subject(token)
        assert caught.value.problem is OidcProblem.UNSUPPORTED_ALGORITHM
    assert issuer.requests == []


async def test_the_verifier_applies_its_maximum_lifetime() -> None:
    issuer, clock = FakeIssuer(), Clock()
    now = int(time.time())
    long_lived = issuer.token(sub="moderator-US", iat=now, exp=now + 2 * 3600)
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, keys=_cache(issuer, clock), max_lifetime_seconds=3600)
    with pytest.raises(OidcError) as caught:
        await verifier.subject(long_lived)
    assert caught.value.problem is OidcProblem.LIFETIME_TOO_LONG
    relaxed = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, keys=_cache(issuer, clock), max_lifetime_seconds=3 * 3600)
    assert await relaxed.subject(long_lived) == "moderator-US"


def test_the_verifier_refuses_symmetric_algorithms() -> None:
    issuer, clock = FakeIssuer(), Clock()
    with pytest.raises(ValueError, match="HS256"):
        OidcVerifier(issuer=ISSUER, audience=AUDIENCE, keys=_cache(issuer, clock), algorithms=("HS256",))
