"""API tokens over GraphQL: `apiTokens`, `issueApiToken` (partner tokens, capped by the issuer), `revokeApiToken`.

A token's secret appears exactly once, in `IssueApiTokenSuccess.secret`; afterwards only its prefix is ever shown.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated

import strawberry

from api import identity
from api.graphql.context import Context, Info
from api.graphql.errors import BadRequest
from api.graphql.ids import parse_id, to_global_id
from api.graphql.permissions import requires
from api.graphql.runner import audit_context, run
from api.graphql.types.common import Connection, MutationError, connection
from api.identity import DEFAULT_LIFETIME, Issuer, PartnerToken, StaffToken
from authz.permissions import Permission
from authz.principal import PrincipalKind
from domain.actor import Actor
from domain.errors import DomainError
from persistence.pagination import Page
from persistence.principals import TokenRecord, TokenStatus, list_tokens
from persistence.repositories import PostgresUnitOfWork


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


@strawberry.input(
    description="A staff member's token: the role they hold (granted if missing; never beyond your own "
    "permissions there) and the moderation vendor they work for."
)
class IssueStaffTokenInput:
    name: str = strawberry.field(description="The staff member's name (their OIDC subject); created on first use.")
    role: str
    region: str = strawberry.field(description="US, EU, APAC, ROW, or `*` for every region.")
    vendor_org: str | None = strawberry.field(
        default=None,
        description="The moderation vendor they work for: QA agreement per vendor counts their decisions under it. "
        "Null keeps what is stored (in-house for a new staff member).",
    )
    expires_in: str = strawberry.field(default=DEFAULT_LIFETIME, description="Lifetime: `30d`, `12h`, `90m`.")


@strawberry.input
class RevokeApiTokenInput:
    id: strawberry.ID


@strawberry.type
class RevokeApiTokenSuccess:
    token: ApiToken


IssueApiTokenResult = Annotated[IssueApiTokenSuccess | MutationError, strawberry.union("IssueApiTokenResult")]
IssueStaffTokenResult = Annotated[IssueApiTokenSuccess | MutationError, strawberry.union("IssueStaffTokenResult")]
RevokeApiTokenResult = Annotated[RevokeApiTokenSuccess | MutationError, strawberry.union("RevokeApiTokenResult")]


def _principal_uuid(context: Context) -> uuid.UUID | None:
    """The caller's row in `principals` (staff), or None (a partner token or the system)."""
    if context.principal.kind is not PrincipalKind.STAFF:
        return None
    try:
        return uuid.UUID(context.principal.id)
    except ValueError:
        return None


def _issuer(context: Context, operation: str) -> Issuer:
    return Issuer(audit_context(context, operation), context.permissions, _principal_uuid(context))


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
        now = datetime.now(UTC)
        request = PartnerToken(input.partner_org, input.scopes, input.region, input.name, input.expires_in)
        issuer = _issuer(context, "issueApiToken")

        async def command(uow: PostgresUnitOfWork, actor: Actor) -> IssueApiTokenSuccess:
            record, secret = await identity.issue_partner_token(uow, issuer, request, now)
            return IssueApiTokenSuccess(token=ApiToken.from_record(record, now), secret=secret)

        return await run(info, "issueApiToken", Permission.TOKENS_ISSUE, command)

    @strawberry.mutation(
        extensions=requires(Permission.TOKENS_ISSUE),
        description="Issue a staff member's token (what `vigil token issue --role --vendor` does); the secret is "
        "returned once.",
    )
    async def issue_staff_token(self, info: Info, input: IssueStaffTokenInput) -> IssueStaffTokenResult:
        now = datetime.now(UTC)
        request = StaffToken(input.role, input.region, input.name, input.expires_in, input.vendor_org, via="GraphQL")
        issuer = _issuer(info.context, "issueStaffToken")

        async def command(uow: PostgresUnitOfWork, actor: Actor) -> IssueApiTokenSuccess:
            record, secret = await identity.issue_staff_token(uow, issuer, request, now)
            return IssueApiTokenSuccess(token=ApiToken.from_record(record, now), secret=secret)

        return await run(info, "issueStaffToken", Permission.TOKENS_ISSUE, command)

    @strawberry.mutation(
        extensions=requires(Permission.TOKENS_REVOKE),
        description="Revoke a token now (revoking a revoked token changes nothing).",
    )
    async def revoke_api_token(self, info: Info, input: RevokeApiTokenInput) -> RevokeApiTokenResult:
        context = info.context
        now = datetime.now(UTC)
        issuer = _issuer(context, "revokeApiToken")

        async def command(uow: PostgresUnitOfWork, actor: Actor) -> RevokeApiTokenSuccess:
            revoked = await identity.revoke(uow, issuer, parse_id(input.id, "ApiToken", field="id"), now)
            return RevokeApiTokenSuccess(token=ApiToken.from_record(revoked, now))

        result = await run(info, "revokeApiToken", Permission.TOKENS_REVOKE, command)
        if context.principal_cache is not None and isinstance(result, RevokeApiTokenSuccess):
            context.principal_cache.clear()  # this process refuses the token from now on (others within the TTL)
        return result


__all__ = [
    "ApiToken",
    "ApiTokenStatus",
    "IssueApiTokenInput",
    "IssueApiTokenResult",
    "IssueStaffTokenInput",
    "IssueStaffTokenResult",
    "RevokeApiTokenInput",
    "RevokeApiTokenResult",
    "TokenMutation",
    "TokenQuery",
]
