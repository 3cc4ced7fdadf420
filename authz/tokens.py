"""Partner API token secrets: minting, hashing, display, ``Authorization`` header parsing, expiry durations.

A token secret is shown once, at issue time. The database stores only ``hash_token(secret)`` (plus
``token_prefix(secret)`` so people can tell tokens apart); a request's bearer secret is hashed and looked up.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Final

TOKEN_PREFIX: Final = "vgl_"  # noqa: S105 (a public marker, not a secret)
TOKEN_BYTES: Final = 32
DISPLAY_PREFIX_LENGTH: Final = 12
"""``vgl_`` plus 8 random characters (48 bits): enough to tell tokens apart, useless for guessing one."""

# token_urlsafe(32) is the unpadded base64url of 32 bytes: exactly 43 characters.
_TOKEN_RE: Final = re.compile(r"vgl_[A-Za-z0-9_-]{43}")
_DURATION_RE: Final = re.compile(r"([0-9]+)([dhm])")
_DURATION_UNITS: Final = {"d": "days", "h": "hours", "m": "minutes"}
_MAX_DURATION_DIGITS: Final = 6
MAX_JWT_LENGTH: Final = 16_384
_JWT_RE: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def new_token_secret() -> str:
    """A fresh secret: ``vgl_`` + 32 random bytes (256 bits), base64url. Show it once, store its hash."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def is_well_formed(secret: str) -> bool:
    """Whether ``secret`` has the shape ``new_token_secret`` produces (cheap pre-check before a lookup)."""
    return _TOKEN_RE.fullmatch(secret) is not None


def looks_like_jwt(value: str) -> bool:
    """Three dot-separated base64url parts (the signature may be empty: ``alg: none``, refused by
    ``authz.oidc.verify_jwt``), at most ``MAX_JWT_LENGTH`` characters. Says nothing about validity."""
    return len(value) <= MAX_JWT_LENGTH and _JWT_RE.fullmatch(value) is not None


def hash_token(secret: str) -> str:
    """SHA-256 hex digest of the secret, the value stored and looked up.

    A plain fast hash is right here, unlike for passwords: the secret is 256 bits from ``secrets``, so there
    is no dictionary to try and brute force is hopeless whatever the hash costs. A slow KDF (bcrypt, argon2)
    would only add latency to every request and rule out an indexed lookup by hash.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_prefix(secret: str) -> str:
    """The first 12 characters, safe to store and display (``vgl_AbCdEfGh``)."""
    return secret[:DISPLAY_PREFIX_LENGTH]


def constant_time_equals(a: str, b: str) -> bool:
    """Compare two secrets or hashes without leaking, through timing, where they first differ."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def verify_token(secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` is the token whose hash was stored (constant-time)."""
    return constant_time_equals(hash_token(secret), stored_hash)


class BearerError(StrEnum):
    """Why an ``Authorization`` header gives no token. MISSING usually means anonymous; MALFORMED, a 401."""

    MISSING = "missing"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class BearerToken:
    """A well-formed secret from an ``Authorization: Bearer`` header. Its repr hides the secret."""

    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"BearerToken(prefix={token_prefix(self.secret)!r})"


@dataclass(frozen=True, slots=True)
class BearerJwt:
    """A value shaped like a JWT (``header.payload.signature``), not yet verified. Its repr hides it."""

    token: str = field(repr=False)

    def __repr__(self) -> str:
        return "BearerJwt(...)"


def parse_bearer(header_value: str | None, *, allow_jwt: bool = False) -> BearerToken | BearerJwt | BearerError:
    """Parse an ``Authorization`` header value: ``Bearer vgl_...`` -> ``BearerToken``, else the reason.

    No header or a blank one is MISSING. Another scheme, extra parts, or a value that cannot be a Vigil token
    is MALFORMED (rejected before any database lookup). The scheme is case-insensitive (RFC 9110).
    With ``allow_jwt`` (OIDC configured), a value not starting with ``vgl_`` and shaped like a JWT is a
    ``BearerJwt`` for ``authz.oidc`` to verify.
    """
    if header_value is None or not header_value.strip():
        return BearerError.MISSING
    parts = header_value.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return BearerError.MALFORMED
    value = parts[1]
    if is_well_formed(value):
        return BearerToken(secret=value)
    if allow_jwt and not value.startswith(TOKEN_PREFIX) and looks_like_jwt(value):
        return BearerJwt(token=value)
    return BearerError.MALFORMED


def parse_duration(text: str) -> timedelta:
    """``"30d"``, ``"12h"``, ``"90m"`` -> ``timedelta``. ``ValueError`` with a message fit for a CLI user."""
    expected = "expected a positive whole number followed by d (days), h (hours) or m (minutes), e.g. 30d, 12h, 90m"
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"invalid duration {text!r}: {expected}")
    digits, unit = match.groups()
    if len(digits.lstrip("0")) > _MAX_DURATION_DIGITS:
        raise ValueError(f"duration {text!r} is too long: at most {_MAX_DURATION_DIGITS} digits")
    amount = int(digits)
    if amount == 0:
        raise ValueError(f"duration {text!r} must be positive: {expected}")
    return timedelta(**{_DURATION_UNITS[unit]: amount})
