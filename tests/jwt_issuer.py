"""A fake OIDC issuer for tests: real key pairs (``cryptography``), a JWKS, signed JWTs, and an injectable
fetcher serving the discovery document and key set from memory (no network).

    issuer = FakeIssuer()
    token = issuer.token(sub="moderator-US")
    create_app(Settings(env="test", oidc_issuer=ISSUER, oidc_audience=AUDIENCE), database_url=db_url,
               oidc_fetch=issuer.fetch)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from authz.oidc import JwksFetchError

ISSUER = "https://login.example.test/realms/vigil"
AUDIENCE = "vigil-api"
JWKS_URL = "https://login.example.test/realms/vigil/protocol/openid-connect/certs"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_part(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


class FakeIssuer:
    """An RSA key (``rsa-1``) and an EC P-256 key (``ec-1``), published in its JWKS."""

    def __init__(self, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        self.published: dict[str, Any] = {"rsa-1": self.rsa_key, "ec-1": self.ec_key}
        self.requests: list[str] = []
        self.down = False

    def publish(self, kid: str, key: Any) -> None:
        self.published[kid] = key

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, private in self.published.items():
            jwk = json.loads(jwt.algorithms.get_default_algorithms()[_alg_of(private)].to_jwk(private.public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig"})
        return {"keys": keys}

    def public_pem(self) -> bytes:
        return self.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    async def fetch(self, url: str) -> Mapping[str, Any]:
        """The injectable fetcher: discovery document and JWKS, from memory."""
        self.requests.append(url)
        if self.down:
            raise JwksFetchError(f"GET {url}: connection refused")
        if url == self.issuer + "/.well-known/openid-configuration":
            return {"issuer": self.issuer, "jwks_uri": JWKS_URL}
        if url == JWKS_URL:
            return self.jwks()
        raise JwksFetchError(f"GET {url}: 404")

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": "someone",
            "iat": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, *, kid: str = "rsa-1", alg: str = "RS256", key: Any = None, **claims: Any) -> str:
        """A JWT signed by the published key ``kid`` (or ``key``); claims default to valid ones (None drops one)."""
        signing_key = key if key is not None else self.published[kid]
        return jwt.encode(self.claims(**claims), signing_key, algorithm=alg, headers={"kid": kid})

    def unsigned_token(self, *, alg: str = "none", kid: str = "rsa-1", **claims: Any) -> str:
        """``alg: none``: header and claims, empty signature."""
        return f"{_json_part({'alg': alg, 'typ': 'JWT', 'kid': kid})}.{_json_part(self.claims(**claims))}."

    def hmac_with_public_key(self, *, kid: str = "rsa-1", **claims: Any) -> str:
        """The classic forgery: HS256 with the issuer's *public* key (PEM) as the HMAC secret."""
        signing_input = f"{_json_part({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_json_part(self.claims(**claims))}"
        signature = hmac.new(self.public_pem(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(signature)}"


def _alg_of(private: Any) -> str:
    return "ES256" if isinstance(private, ec.EllipticCurvePrivateKey) else "RS256"


def tamper(token: str) -> str:
    """The same token with one claim changed and the original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "admin-global"
    return f"{header}.{_json_part(claims)}.{signature}"
