"""API tokens over GraphQL: `apiTokens`, `issueApiToken` (partner tokens, capped by the issuer), `revokeApiToken`.

A token's secret appears exactly once, in `IssueApiTokenSuccess.secret`; afterwards only its prefix is ever shown.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Annotated, Final

import strawberry

from api.graphql.context import Context, Info
from api.graphql.errors import BadRequest
from api.graphql.ids import parse_id, to_global_id
from api.graphql.permissions import requires
from api.graphql.types.common import Connection, MutationError, connection, error_from
from authz.permissions import Permission
from authz.principal import PrincipalKind
from authz.roles import GLOBAL_REGION, validate_region
from authz.scopes import check_token_scopes, resolve_scopes
from authz.tokens import parse_duration
from domain.errors import DomainError
from persistence.pagination import Page
from persistence.principals import (
    MAX_NAME_LENGTH,
    ActingAs,
    TokenRecord,
    TokenStatus,
    create_token,
    ensure_partner,
    get_token,
    list_tokens,
    revoke_token,
)

MAX_SCOPES: Final = 64
MAX_LIFETIME: Final = timedelta(days=366)
DEFAULT_LIFETIME: Final = "30d"


@strawberry.enum(name="ApiTokenStatus", description="REVOKED wins over EXPIRED; EXPIRED is computed from the clock.")
class ApiTokenStatus(Enum):
    ACTIVE = TokenStatus.ACTIVE.value
    EXPIRED = TokenStatus.EXPIRED.value
    REVOKED = TokenStatus.REVOKED.value


@strawberry.type(description="Who a token acts as: a staff member (its roles) or a partner organisation.")
class ApiTokenHolder:
    id: strawberry.ID
    name: str
    kind: str = strawberry.field(description="STAFF, PARTNER or SYSTEM.")
    partner_org: str | None


@strawberry.type(description="An API token as it is stored: its secret is never shown again after issue.")
class ApiToken:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The first characters of the secret, to tell tokens apart.")
    scopes: list[str] | None = strawberry.field(description="A partner token's permissions; null for staff tokens.")
    region: str | None = strawberry.field(description="A partner token's region (`*`: every region).")
    principal: ApiTokenHolder
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    status: ApiTokenStatus

    @classmethod
    def from_record(cls, record: TokenRecord, now: datetime) -> ApiToken:
        return cls(
            id=strawberry.ID(to_global_id("ApiToken", record.id)),
            name=record.name,
            prefix=record.prefix,
            scopes=list(record.scopes) if record.scopes is not None else None,
            region=record.region,
            principal=ApiTokenHolder(
                id=strawberry.ID(to_global_id("Principal", record.principal_id)),
                name=record.principal_name,
                kind=record.principal_kind,
                partner_org=record.partner_org,
            ),
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
            status=ApiTokenStatus(record.status(now).value),
        )


@strawberry.input(description="A partner token: what it may do (never more than you may), where, for how long.")
class IssueApiTokenInput:
    partner_org: str = strawberry.field(description="The partner organisation; created on first use.")
    scopes: list[str] = strawberry.field(
        description="Permission names (`reports:create`) and/or presets (`trusted_flagger`, ...)."
    )
    region: str = strawberry.field(description="US, EU, APAC, ROW, or `*` for every region.")
    name: str = strawberry.field(description="What the token is for, to recognise it later.")
    expires_in: str = strawberry.field(default=DEFAULT_LIFETIME, description="Lifetime: `30d`, `12h`, `90m`.")


@strawberry.type(description="The token and its secret. Store the secret now: it is never shown again.")
class IssueApiTokenSuccess:
    token: ApiToken
    secret: str


@strawberry.input
class RevokeApiTokenInput:
    id: strawberry.ID


@strawberry.type
class RevokeApiTokenSuccess:
    token: ApiToken


IssueApiTokenResult = Annotated[IssueApiTokenSuccess | MutationError, strawberry.union("IssueApiTokenResult")]
RevokeApiTokenResult = Annotated[RevokeApiTokenSuccess | MutationError, strawberry.union("RevokeApiTokenResult")]


def _acting_as(context: Context) -> ActingAs:
    return ActingAs(kind=context.principal.kind.value, id=context.principal.id, request_id=context.request_id or None)


def _principal_uuid(context: Context) -> uuid.UUID | None:
    """The caller's row in `principals` (staff), or None (a partner token or the system)."""
    if context.principal.kind is not PrincipalKind.STAFF:
        return None
    try:
        return uuid.UUID(context.principal.id)
    except ValueError:
        return None


def _text(value: str, field: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_NAME_LENGTH:
        raise DomainError.invalid_input(f"`{field}` must be 1 to {MAX_NAME_LENGTH} characters", field=field)
    return value


def _checked_issue(context: Context, data: IssueApiTokenInput) -> tuple[str, str, list[str], str, timedelta]:
    """The validated (partner_org, name, scopes, region, lifetime), or the typed error: the issuer's cap."""
    org = _text(data.partner_org, "partnerOrg")
    name = _text(data.name, "name")
    try:
        region = validate_region(data.region)
    except ValueError as error:
        raise DomainError.invalid_input(str(error), field="region") from error
    try:
        lifetime = parse_duration(data.expires_in)
    except ValueError as error:
        raise DomainError.invalid_input(str(error), field="expiresIn") from error
    if lifetime > MAX_LIFETIME:
        raise DomainError.invalid_input(f"a token lives at most {MAX_LIFETIME.days} days", field="expiresIn")
    if not data.scopes or len(data.scopes) > MAX_SCOPES:
        raise DomainError.invalid_input(f"give 1 to {MAX_SCOPES} scopes", field="scopes")
    try:
        scopes = sorted(p.value for p in resolve_scopes(data.scopes))
    except ValueError as error:
        raise DomainError.invalid_input(str(error), field="scopes") from error
    offending = check_token_scopes(context.permissions, scopes, region)
    if offending:
        where = "every region" if region == GLOBAL_REGION else f"region {region}"
        raise DomainError.forbidden(
            f"a token cannot carry scopes you do not hold in {where}, nor token management: {', '.join(offending)}",
            field="scopes",
        )
    return org, name, scopes, region, lifetime


def _may_touch(context: Context, permission: Permission, record: TokenRecord) -> bool:
    """A token is within reach when the caller holds `permission` in its region (staff tokens: everywhere), or
    the caller issued it."""
    me = _principal_uuid(context)
    if me is not None and record.issued_by == me:
        return True
    return context.permissions.allows(permission, record.region or GLOBAL_REGION)


@strawberry.type
class TokenQuery:
    @strawberry.field(
        extensions=requires(Permission.TOKENS_READ),
        description="API tokens, newest first (prefix, holder, scopes, status; never a secret). Readers limited "
        "to some regions see the partner tokens of those regions and the tokens they issued or hold.",
    )
    async def api_tokens(self, info: Info, first: int = 20, after: str | None = None) -> Connection[ApiToken] | None:
        context = info.context
        try:
            async with context.sessions() as session:
                page = await list_tokens(
                    session,
                    first=first,
                    after=after,
                    regions=context.permissions.regions(Permission.TOKENS_READ),
                    viewer_id=_principal_uuid(context),
                )
        except DomainError as error:  # a bad `first` or `after`: a request error, not a business one
            raise BadRequest(error.message, field=error.field) from error
        now = datetime.now(UTC)
        return connection(
            Page[ApiToken](
                items=[ApiToken.from_record(r, now) for r in page.items],
                cursors=page.cursors,
                has_next=page.has_next,
                has_previous=page.has_previous,
            )
        )


@strawberry.type
class TokenMutation:
    @strawberry.mutation(
        extensions=requires(Permission.TOKENS_ISSUE),
        description="Issue a partner token. Its scopes must be permissions you hold in its region; the secret is "
        "returned once.",
    )
    async def issue_api_token(self, info: Info, input: IssueApiTokenInput) -> IssueApiTokenResult:
        context = info.context
        try:
            org, name, scopes, region, lifetime = _checked_issue(context, input)
        except DomainError as error:
            return error_from(error)
        now = datetime.now(UTC)
        actor = _acting_as(context)
        async with context.sessions() as session, session.begin():
            try:
                partner_id = await ensure_partner(session, org, actor=actor, now=now)
            except ValueError as error:
                return error_from(DomainError.conflict(str(error), field="partnerOrg"))
            record, secret = await create_token(
                session,
                principal_id=partner_id,
                name=name,
                scopes=scopes,
                region=region,
                issued_by=_principal_uuid(context),
                expires_at=now + lifetime,
                now=now,
                actor=actor,
            )
        return IssueApiTokenSuccess(token=ApiToken.from_record(record, now), secret=secret)

    @strawberry.mutation(
        extensions=requires(Permission.TOKENS_REVOKE),
        description="Revoke a token now (revoking a revoked token changes nothing).",
    )
    async def revoke_api_token(self, info: Info, input: RevokeApiTokenInput) -> RevokeApiTokenResult:
        context = info.context
        try:
            token_id = parse_id(input.id, "ApiToken", field="id")
        except DomainError as error:
            return error_from(error)
        now = datetime.now(UTC)
        async with context.sessions() as session, session.begin():
            current = await get_token(session, token_id)
            if current is None or not _may_touch(context, Permission.TOKENS_REVOKE, current):
                return error_from(DomainError.not_found("no such token", field="id"))
            revoked = await revoke_token(session, token_id, now, actor=_acting_as(context))
        if context.principal_cache is not None:
            context.principal_cache.clear()  # this process refuses the token from now on (others within the TTL)
        if revoked is None:  # deleted between the two statements: tokens are never deleted
            return error_from(DomainError.not_found("no such token", field="id"))
        return RevokeApiTokenSuccess(token=ApiToken.from_record(revoked, now))


__all__ = [
    "ApiToken",
    "ApiTokenStatus",
    "IssueApiTokenInput",
    "IssueApiTokenResult",
    "RevokeApiTokenInput",
    "RevokeApiTokenResult",
    "TokenMutation",
    "TokenQuery",
]
