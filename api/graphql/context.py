"""The per-request context: who is asking (principal + permission map, computed once), a session factory,
and the request's DataLoaders."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from api.settings import Settings
from authz.enforcer import Authorizer, PermissionMap
from authz.oidc import OidcError, OidcVerifier
from authz.principal import Principal
from authz.tokens import BearerError, BearerJwt, hash_token, parse_bearer
from persistence.db import SessionFactory
from persistence.fast.sql import Pool
from persistence.principals import TokenProblem, principal_for_token, staff_principal

if TYPE_CHECKING:
    from api.lifecycle import Jobs
    from api.services.backtest_jobs import BacktestRunner
    from api.services.bulk_jobs import BulkJobRunner
    from domain.outbox.webhook import WebhookDelivery
    from persistence.pagination import Page
    from persistence.queries.audit import AuditEventRow, HistoryKey
    from persistence.queries.outbox import DeliveryKey, EventRow

log = logging.getLogger("vigil.auth")


PRINCIPAL_TTL_SECONDS = 5.0
"""How long a resolved token is reused without asking the database: a revoked or expired token is refused at
most this long after the fact, in every server process."""
PRINCIPAL_CACHE_MAX = 10_000


class PrincipalCache:
    """Resolved tokens by hash, for ``PRINCIPAL_TTL_SECONDS``: a busy partner token costs one lookup per TTL per
    process instead of two statements per request. Refusals are not cached (a new token works at once); the
    cache is bounded (the oldest entries go first). A cached principal's permission map (immutable, a function of
    the principal alone) is kept beside it, computed on its first request."""

    def __init__(self, ttl: float = PRINCIPAL_TTL_SECONDS, max_entries: int = PRINCIPAL_CACHE_MAX) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._maps: dict[str, tuple[Principal, PermissionMap]] = {}  # by token hash, for the principal cached
        self._hashes: dict[int, str] = {}  # id() of a cached principal -> its token hash

    def get(self, token_hash: str) -> Principal | None:
        if self.ttl <= 0:
            return None
        hit = self._entries.get(token_hash)
        if hit is None:
            return None
        if hit[0] <= time.monotonic():
            self._forget(token_hash)
            return None
        return hit[1]

    def clear(self) -> None:
        """Forget every resolved token (a revocation in this process takes effect at once)."""
        self._entries.clear()
        self._maps.clear()
        self._hashes.clear()

    def put(self, token_hash: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            for key in list(self._entries)[: self.max_entries // 10 or 1]:
                self._forget(key)
        self._forget(token_hash)
        self._entries[token_hash] = (time.monotonic() + self.ttl, principal)
        self._hashes[id(principal)] = token_hash

    def permissions(self, principal: Principal, compute: Callable[[Principal], PermissionMap]) -> PermissionMap:
        """``compute(principal)``, once per cached principal (any other principal: computed each time)."""
        token_hash = self._hashes.get(id(principal))
        entry = None if token_hash is None else self._entries.get(token_hash)
        if token_hash is None or entry is None or entry[1] is not principal:
            return compute(principal)
        known = self._maps.get(token_hash)
        if known is not None and known[0] is principal:
            return known[1]
        permissions = compute(principal)
        self._maps[token_hash] = (principal, permissions)
        return permissions

    def _forget(self, token_hash: str) -> None:
        entry = self._entries.pop(token_hash, None)
        self._maps.pop(token_hash, None)
        if entry is not None and self._hashes.get(id(entry[1])) == token_hash:
            del self._hashes[id(entry[1])]


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
    pool: Pool | None = None
    """The plain asyncpg pool of the hot paths (report intake); None outside the running app."""
    principal_cache: PrincipalCache | None = None
    bulk_runner: BulkJobRunner | None = None
    """This process's bulk job runner (a submitted job starts at once); None when another process runs them."""
    backtest_runner: BacktestRunner | None = None
    payload_error: str | None = None
    """The code of the first typed error a mutation answered in its payload: the request's metrics outcome."""
    database_unavailable: BaseException | None = None
    """Set when a field failed because the database cannot be reached: the request is answered 503."""
    history_loader: DataLoader[HistoryKey, Page[AuditEventRow]] | None = None
    history_batches: int = 0
    """How many statements the `history` loader ran for this request."""
    webhook_event_loader: DataLoader[uuid.UUID, EventRow | None] | None = None
    webhook_delivery_loader: DataLoader[DeliveryKey, Page[WebhookDelivery]] | None = None
    renders: dict[int, Any] | None = None
    """The renderings of the compiled plan running this request, by root field node (``compiler.render``)."""

    @cached_property
    def loaders(self) -> Any:
        from api.graphql.loaders import Loaders

        return Loaders(self.sessions, self.permissions, self.pool)


Info = StrawberryInfo[Context, None]


@dataclass
class ContextFactory:
    runtime_sessions: Callable[[], SessionFactory]
    authorizer: Authorizer
    settings: Settings
    oidc: OidcVerifier | None = None
    """Staff JWTs are accepted only with a verifier (``api.oidc_fetch.build_oidc_verifier``)."""
    runtime_pool: Callable[[], Pool | None] = lambda: None
    runtime_jobs: Callable[[], Jobs | None] = lambda: None
    principals: PrincipalCache = field(init=False)

    def __post_init__(self) -> None:
        self.principals = PrincipalCache(ttl=self.settings.principal_cache_seconds)

    async def build(self, request: Any, response: Any) -> Context:
        sessions = self.runtime_sessions()
        principal, problem = await self.authenticate(sessions, request.headers.get("authorization"))
        jobs = self.runtime_jobs()
        return Context(
            request=request,
            response=response,
            request_id=str(request.scope.get("state", {}).get("request_id", "")),
            principal=principal,
            permissions=self.principals.permissions(principal, self.authorizer.permission_map),
            sessions=sessions,
            settings=self.settings,
            auth_error=problem,
            pool=self.runtime_pool(),
            principal_cache=self.principals,
            bulk_runner=None if jobs is None else jobs.bulk_runner,
            backtest_runner=None if jobs is None else jobs.backtest_runner,
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
        token_hash = hash_token(bearer.secret)
        cached = self.principals.get(token_hash)
        if cached is not None:
            return cached, None
        async with sessions() as session:
            found = await principal_for_token(session, token_hash, datetime.now(UTC))
        if isinstance(found, TokenProblem):
            log.info("token refused", extra={"reason": found.value})
            return Principal.anonymous(), f"the token is {found.value}"
        self.principals.put(token_hash, found)
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
