"""The network side of OIDC staff login: fetching the issuer's discovery document and key set over HTTP(S),
and the ``OidcVerifier`` built from the settings. ``authz.oidc`` itself does no I/O."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from api.settings import Settings
from authz.oidc import JwksCache, JwksFetcher, JwksFetchError, OidcVerifier

log = logging.getLogger("vigil.auth.oidc")

FETCH_TIMEOUT_SECONDS: Final = 5.0
MAX_DOCUMENT_BYTES: Final = 512_000


async def fetch_json(url: str) -> Mapping[str, Any]:
    """GET ``url`` and return its JSON object; ``JwksFetchError`` for any failure (network, status, size, JSON)."""
    import httpx  # on the first fetch, not when the app is built (~0.1 s to import)

    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
    except httpx.HTTPError as error:
        raise JwksFetchError(f"GET {url}: {error}") from error
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise JwksFetchError(f"GET {url}: document larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        document = response.json()
    except ValueError as error:
        raise JwksFetchError(f"GET {url}: not JSON") from error
    if not isinstance(document, dict):
        raise JwksFetchError(f"GET {url}: not a JSON object")
    return document


def build_oidc_verifier(settings: Settings, fetch: JwksFetcher | None = None) -> OidcVerifier | None:
    """The staff JWT verifier the settings describe, or None when OIDC is off (issuer or audience unset)."""
    if settings.oidc_issuer is None or settings.oidc_audience is None:
        if settings.oidc_issuer is not None or settings.oidc_audience is not None:
            log.warning("OIDC staff login is off: set both VIGIL_OIDC_ISSUER and VIGIL_OIDC_AUDIENCE")
        return None
    cache = JwksCache(
        issuer=settings.oidc_issuer,
        fetch=fetch or fetch_json,
        jwks_url=settings.oidc_jwks_url,
        ttl_seconds=settings.oidc_jwks_cache_seconds,
    )
    return OidcVerifier(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        keys=cache,
        algorithms=tuple(settings.oidc_algorithms),
        subject_claim=settings.oidc_subject_claim,
        max_lifetime_seconds=settings.oidc_max_token_lifetime,
    )
