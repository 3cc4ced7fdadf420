"""Staff JWTs from an OIDC issuer: signing keys (JWKS) fetched and cached, tokens verified, subjects extracted.

A JWT only says *who* the caller is (its subject claim). What they may do comes from the database, as for API
tokens: the caller looks the subject up as a staff principal's name and loads its role assignments. Roles,
groups or scopes inside the token are ignored.

Only asymmetric algorithms are ever accepted (``ASYMMETRIC_ALGORITHMS``): never ``none``, never ``HS*`` (an
HMAC "signed" with the issuer's *public* key is the classic forgery). The algorithm is taken from the allow-list
and the key must be of the matching type, whatever the token header claims.

Network access is injected (``JwksFetcher``): this package does no I/O of its own, so tests need no internet.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from authz.tokens import looks_like_jwt

log = logging.getLogger("vigil.auth.oidc")

JwksFetcher = Callable[[str], Awaitable[Mapping[str, Any]]]
"""``await fetch(url)`` -> the JSON object at ``url``. Raise ``JwksFetchError`` (or ``OSError``/``ValueError``)
when it cannot be fetched or is not a JSON object."""

JsonWebKeys = Mapping[str, Mapping[str, Any]]
"""Usable signing keys of an issuer, by ``kid``: each a public JWK (RFC 7517) as a JSON object."""

_KEY_TYPES: Final = MappingProxyType(
    {
        **{f"{family}{bits}": "RSA" for family in ("RS", "PS") for bits in (256, 384, 512)},
        "ES256": "EC",
        "ES384": "EC",
        "ES512": "EC",
        "EdDSA": "OKP",
    }
)
ASYMMETRIC_ALGORITHMS: Final = frozenset(_KEY_TYPES)
"""Every algorithm a JWT may be signed with: public-key ones only."""

DEFAULT_ALGORITHMS: Final = ("RS256", "ES256")
CLOCK_SKEW_SECONDS: Final = 30
DEFAULT_MAX_LIFETIME_SECONDS: Final = 24 * 3600
"""The longest a staff JWT may live (``exp`` minus ``iat``, or minus now without ``iat``): a stolen token that
is valid for a century is refused, however well signed."""
MIN_REFRESH_SECONDS: Final = 60.0
"""An unknown ``kid`` (or a failed fetch) refreshes the keys at most once per this many seconds."""

_DISCOVERY_PATH: Final = "/.well-known/openid-configuration"


def check_algorithms(algorithms: Iterable[str]) -> tuple[str, ...]:
    """The algorithms, validated: ``ValueError`` for an empty list, ``none``, ``HS*`` or an unknown name."""
    names = tuple(algorithms)
    if not names:
        raise ValueError("at least one JWT algorithm is needed")
    refused = sorted(set(names) - ASYMMETRIC_ALGORITHMS)
    if refused:
        allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
        raise ValueError(f"JWT algorithms {refused} are not accepted; use public-key ones: {allowed}")
    return names


class OidcProblem(StrEnum):
    """Why a JWT is refused. The value is for logs; ``message`` is what the client is told."""

    MALFORMED = "malformed"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_ISSUER = "wrong_issuer"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    MISSING_CLAIM = "missing_claim"
    LIFETIME_TOO_LONG = "lifetime_too_long"
    KEYS_UNAVAILABLE = "keys_unavailable"

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES: Final = MappingProxyType(
    {
        OidcProblem.MALFORMED: "the token is malformed",
        OidcProblem.EXPIRED: "the token is expired",
        OidcProblem.NOT_YET_VALID: "the token is not valid yet",
        OidcProblem.WRONG_AUDIENCE: "the token is meant for another audience",
        OidcProblem.WRONG_ISSUER: "the token is from another issuer",
        OidcProblem.BAD_SIGNATURE: "the token's signature is invalid",
        OidcProblem.UNKNOWN_KEY: "the token is signed with an unknown key",
        OidcProblem.UNSUPPORTED_ALGORITHM: "the token's signing algorithm is not accepted",
        OidcProblem.MISSING_CLAIM: "the token lacks a required claim",
        OidcProblem.LIFETIME_TOO_LONG: "the token lives longer than this server accepts",
        OidcProblem.KEYS_UNAVAILABLE: "the token cannot be verified now: the issuer's keys are unavailable",
    }
)


class OidcError(Exception):
    """A refused JWT: ``problem`` says why (``problem.message`` for the client), ``detail`` for logs."""

    def __init__(self, problem: OidcProblem, detail: str = "") -> None:
        super().__init__(f"{problem.message}{f' ({detail})' if detail else ''}")
        self.problem = problem
        self.detail = detail


class JwksFetchError(Exception):
    """The issuer's discovery document or key set could not be fetched or read."""


def _token_algorithm(token: str) -> tuple[str, str | None]:
    import jwt  # PyJWT and its cryptography (~0.1 s to import): loaded by the first token verified, not at start

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise OidcError(OidcProblem.MALFORMED, str(error)) from None
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or not isinstance(kid, str | None):
        raise OidcError(OidcProblem.MALFORMED, "alg must be a string, kid a string if present")
    return alg, kid


def verify_jwt(
    token: str,
    *,
    issuer: str,
    audience: str,
    algorithms: Iterable[str],
    keys: JsonWebKeys,
    leeway: float = CLOCK_SKEW_SECONDS,
    max_lifetime: float = DEFAULT_MAX_LIFETIME_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The verified claims of ``token``, or ``OidcError`` saying why not.

    Checks, in order: shape, algorithm (in ``algorithms``, which must be public-key ones), key (``kid`` in
    ``keys``, of the algorithm's key type, its declared ``alg`` if any equal to the token's), signature, then
    ``exp`` (required), ``nbf``/``iat``, ``iss`` (required, exact) and ``aud`` (required, must contain
    ``audience``), with ``leeway`` seconds of clock skew; last the lifetime: ``exp`` minus the earlier of ``iat``
    and now (now alone without ``iat``) at most ``max_lifetime`` seconds (plus ``leeway``).
    """
    import jwt

    allowed = check_algorithms(algorithms)
    if not looks_like_jwt(token):
        raise OidcError(OidcProblem.MALFORMED, "not a compact JWS")
    alg, kid = _token_algorithm(token)
    if alg not in allowed:
        raise OidcError(OidcProblem.UNSUPPORTED_ALGORITHM, f"alg {alg!r} is not one of {list(allowed)}")
    if kid is None or kid not in keys:
        raise OidcError(OidcProblem.UNKNOWN_KEY, f"kid {kid!r}")
    jwk = keys[kid]
    if jwk.get("kty") != _KEY_TYPES[alg] or jwk.get("alg", alg) != alg:
        raise OidcError(OidcProblem.UNSUPPORTED_ALGORITHM, f"key {kid!r} is not a {alg} key")
    try:
        key = jwt.PyJWK(dict(jwk), algorithm=alg)
    except jwt.PyJWTError as error:
        raise OidcError(OidcProblem.UNSUPPORTED_ALGORITHM, f"key {kid!r} does not fit {alg}: {error}") from None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["exp", "iss", "aud"], "enforce_minimum_key_length": True},
        )
    except jwt.ExpiredSignatureError:
        raise OidcError(OidcProblem.EXPIRED) from None
    except jwt.ImmatureSignatureError:
        raise OidcError(OidcProblem.NOT_YET_VALID) from None
    except jwt.InvalidAudienceError as error:
        raise OidcError(OidcProblem.WRONG_AUDIENCE, str(error)) from None
    except jwt.InvalidIssuerError as error:
        raise OidcError(OidcProblem.WRONG_ISSUER, str(error)) from None
    except jwt.MissingRequiredClaimError as error:
        raise OidcError(OidcProblem.MISSING_CLAIM, str(error)) from None
    except jwt.InvalidSignatureError:
        raise OidcError(OidcProblem.BAD_SIGNATURE) from None
    except jwt.InvalidAlgorithmError as error:
        raise OidcError(OidcProblem.UNSUPPORTED_ALGORITHM, str(error)) from None
    except jwt.InvalidKeyError as error:  # e.g. an RSA key shorter than 2048 bits
        raise OidcError(OidcProblem.UNKNOWN_KEY, str(error)) from None
    except jwt.PyJWTError as error:
        raise OidcError(OidcProblem.MALFORMED, str(error)) from None
    _check_lifetime(claims, max_lifetime + leeway, time.time() if now is None else now)
    return claims


def _check_lifetime(claims: Mapping[str, Any], longest: float, now: float) -> None:
    """``LIFETIME_TOO_LONG`` when the token was made to live longer than ``longest`` seconds. Counted from the
    earlier of ``iat`` and now, so neither an old ``iat`` nor a missing one stretches it."""
    expires, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expires, int | float) or isinstance(expires, bool):  # jwt.decode checked it; be certain
        raise OidcError(OidcProblem.MALFORMED, "exp must be a number")
    start = min(issued, now) if isinstance(issued, int | float) and not isinstance(issued, bool) else now
    if expires - start > longest:
        raise OidcError(OidcProblem.LIFETIME_TOO_LONG, f"{int(expires - start)} s, at most {int(longest)} s")


def usable_keys(jwks: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The signing keys of a JWKS document by ``kid``; keys without a ``kid``, meant for encryption, or
    symmetric (``oct``) are skipped. ``JwksFetchError`` when the document has no ``keys`` list."""
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        raise JwksFetchError("the JWKS document has no `keys` list")
    keys: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kid, kty, use = entry.get("kid"), entry.get("kty"), entry.get("use", "sig")
        if isinstance(kid, str) and kty in ("RSA", "EC", "OKP") and use == "sig":
            keys[kid] = MappingProxyType(dict(entry))
    return keys


class JwksCache:
    """An issuer's signing keys, fetched on first use and cached for ``ttl_seconds``.

    A ``kid`` not in the cache triggers a refresh (the issuer rotated its keys), but at most one fetch per
    ``min_refresh_seconds``, so a flood of forged ``kid`` values cannot hammer the issuer. A failed refresh
    keeps the keys already known. Without ``jwks_url``, it is discovered once from the issuer's
    ``/.well-known/openid-configuration`` (``jwks_uri``; the document's ``issuer`` must match).
    Concurrent callers share one fetch.
    """

    def __init__(
        self,
        *,
        issuer: str,
        fetch: JwksFetcher,
        jwks_url: str | None = None,
        ttl_seconds: float = 300,
        min_refresh_seconds: float = MIN_REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self._fetch = fetch
        self._jwks_url = jwks_url
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._keys: dict[str, Mapping[str, Any]] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        """Documents fetched (discovery and key sets), successful or not: for tests and metrics."""

    async def keys(self, kid: str | None = None) -> JsonWebKeys:
        """The known keys, refreshed when stale or (rate-limited) when ``kid`` is not among them.

        ``OidcError(KEYS_UNAVAILABLE)`` only when no key set was ever fetched successfully.
        """
        if self._needs_refresh(kid):
            async with self._lock:
                if self._needs_refresh(kid):
                    await self._refresh()
        if self._keys is None:
            raise OidcError(OidcProblem.KEYS_UNAVAILABLE, "no key set could be fetched")
        return MappingProxyType(self._keys)

    def _needs_refresh(self, kid: str | None) -> bool:
        now = self._clock()
        if self._attempted_at is not None and now - self._attempted_at < self._min_refresh:
            return False
        if self._keys is None or now - self._fetched_at >= self._ttl:
            return True
        return kid is not None and kid not in self._keys

    async def _refresh(self) -> None:
        self._attempted_at = self._clock()
        try:
            url = self._jwks_url or await self._discover()
            self.fetches += 1
            keys = usable_keys(await self._fetch(url))
        except (JwksFetchError, OSError, ValueError, TypeError) as error:
            log.warning("could not fetch the OIDC signing keys", extra={"issuer": self.issuer, "error": str(error)})
            return
        self._jwks_url = url
        self._keys = keys
        self._fetched_at = self._clock()

    async def _discover(self) -> str:
        url = self.issuer.rstrip("/") + _DISCOVERY_PATH
        self.fetches += 1
        document = await self._fetch(url)
        if document.get("issuer") != self.issuer:
            raise JwksFetchError(f"{url} names issuer {document.get('issuer')!r}, expected {self.issuer!r}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise JwksFetchError(f"{url} has no jwks_uri")
        return jwks_uri


@dataclass(frozen=True)
class OidcVerifier:
    """Everything needed to turn a staff JWT into a subject: the issuer's settings and its key cache."""

    issuer: str
    audience: str
    keys: JwksCache
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    subject_claim: str = "sub"
    max_lifetime_seconds: float = DEFAULT_MAX_LIFETIME_SECONDS

    def __post_init__(self) -> None:
        check_algorithms(self.algorithms)

    async def subject(self, token: str) -> str:
        """The verified subject claim of ``token`` (a staff principal's name), or ``OidcError``."""
        if not looks_like_jwt(token):
            raise OidcError(OidcProblem.MALFORMED, "not a compact JWS")
        alg, kid = _token_algorithm(token)
        if alg not in self.algorithms:  # refuse before any key fetch
            raise OidcError(OidcProblem.UNSUPPORTED_ALGORITHM, f"alg {alg!r} is not one of {list(self.algorithms)}")
        keys = await self.keys.keys(kid)
        claims = verify_jwt(
            token,
            issuer=self.issuer,
            audience=self.audience,
            algorithms=self.algorithms,
            keys=keys,
            max_lifetime=self.max_lifetime_seconds,
        )
        subject = claims.get(self.subject_claim)
        if not isinstance(subject, str) or not subject.strip():
            raise OidcError(OidcProblem.MISSING_CLAIM, f"no {self.subject_claim!r} claim")
        return subject
