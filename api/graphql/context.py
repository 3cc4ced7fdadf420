"""The per-request context: who is asking (principal + permission map, computed once), a session factory,
and the request's DataLoaders."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from strawberry.types import Info as StrawberryInfo

from api.settings import Settings
from authz.enforcer import Authorizer, PermissionMap
from authz.oidc import OidcError, OidcVerifier
from authz.principal import Principal
from authz.tokens import BearerError, BearerJwt, hash_token, parse_bearer
from persistence.db import SessionFactory
from persistence.principals import TokenProblem, principal_for_token, staff_principal

log = logging.getLogger("vigil.auth")


@dataclass
class Context:
    request: Any
    response: Any
    request_id: str
    principal: Principal
    permissions: PermissionMap
    sessions: SessionFactory
    settings: Settings
    auth_error: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def loaders(self) -> Any:
        from api.graphql.loaders import Loaders

        return Loaders(self.sessions, self.permissions)


Info = StrawberryInfo[Context, None]


@dataclass
class ContextFactory:
    runtime_sessions: Callable[[], SessionFactory]
    authorizer: Authorizer
    settings: Settings
    oidc: OidcVerifier | None = None
    """Staff JWTs are accepted only with a verifier (``api.oidc_fetch.build_oidc_verifier``)."""

    async def build(self, request: Any, response: Any) -> Context:
        sessions = self.runtime_sessions()
        principal, problem = await self.authenticate(sessions, request.headers.get("authorization"))
        return Context(
            request=request,
            response=response,
            request_id=str(request.scope.get("state", {}).get("request_id", "")),
            principal=principal,
            permissions=self.authorizer.permission_map(principal),
            sessions=sessions,
            settings=self.settings,
            auth_error=problem,
        )

    async def authenticate(self, sessions: SessionFactory, header: str | None) -> tuple[Principal, str | None]:
        """Anonymous without a header; with one, the token's principal or anonymous plus the reason it failed."""
        bearer = parse_bearer(header, allow_jwt=self.oidc is not None)
        if bearer is BearerError.MISSING:
            return Principal.anonymous(), None
        if isinstance(bearer, BearerError):
            return (
                Principal.anonymous(),
                "the Authorization header must be `Bearer <token>` with a Vigil token"
                + (" or a staff JWT" if self.oidc is not None else ""),
            )
        if isinstance(bearer, BearerJwt):
            return await self._authenticate_jwt(sessions, bearer)
        async with sessions() as session:
            found = await principal_for_token(session, hash_token(bearer.secret), datetime.now(UTC))
        if isinstance(found, TokenProblem):
            log.info("token refused", extra={"reason": found.value})
            return Principal.anonymous(), f"the token is {found.value}"
        return found, None

    async def _authenticate_jwt(self, sessions: SessionFactory, bearer: BearerJwt) -> tuple[Principal, str | None]:
        """A verified JWT's subject names a staff principal; its roles come from the database, not the token."""
        if self.oidc is None:  # parse_bearer returns BearerJwt only when a verifier is configured
            return Principal.anonymous(), "staff JWTs are not accepted"
        try:
            subject = await self.oidc.subject(bearer.token)
        except OidcError as error:
            log.info("JWT refused", extra={"reason": error.problem.value, "detail": error.detail})
            return Principal.anonymous(), error.problem.message
        async with sessions() as session:
            found = await staff_principal(session, subject)
        if found is None:
            log.info("JWT refused", extra={"reason": "unknown_staff_member"})
            return Principal.anonymous(), "unknown staff member"
        return found, None
