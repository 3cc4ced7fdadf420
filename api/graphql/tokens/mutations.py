"""Tokens' mutations: `issueApiToken` (partner tokens, capped by the issuer), `issueStaffToken`,
`revokeApiToken`. The secret is returned once.

A refused escalation (a token for an existing principal or organisation holding more than the caller) or a
look-alike name is a typed error in the payload, and, like a mutation refused for a missing permission, an
audit event (`security.forbidden` / `security.conflict`) written in its own transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

import strawberry

from api.graphql.context import Context, Info
from api.graphql.ids import parse_id
from api.graphql.permissions import requires
from api.graphql.runner import audit_context, run
from api.graphql.shared.common import MutationError
from api.graphql.tokens.types import ApiToken, principal_uuid
from api.services import identity
from api.services.identity import DEFAULT_LIFETIME, EscalationRefused, Issuer, PartnerToken, StaffToken
from authz.permissions import Permission
from domain.actor import Actor
from persistence.repositories import PostgresUnitOfWork

log = logging.getLogger("vigil.authz")


@strawberry.input(description="A partner token: what it may do (never more than you may), where, for how long.")
class IssueApiTokenInput:
    partner_org: str = strawberry.field(
        description="The partner organisation; created on first use. For an existing one you must hold the scopes "
        "and tokens:issue wherever it already operates (its tokens, staff and webhooks)."
    )
    scopes: list[str] = strawberry.field(
        description="Permission names (`reports:create`) and/or presets (`trusted_flagger`, ...)."
    )
    region: str = strawberry.field(description="US, EU, APAC, ROW, or `*` for every region.")
    name: str = strawberry.field(description="What the token is for, to recognise it later.")
    expires_in: str = strawberry.field(default=DEFAULT_LIFETIME, description="Lifetime: `30d`, `12h`, `90m`.")
    documents: list[str] | None = strawberry.field(
        default=None,
        description="Pin the token to these trusted documents (by name; every registered text of each): it may "
        "send them and nothing else. Null or empty: anything the server accepts.",
    )


@strawberry.type(description="The token and its secret. Store the secret now: it is never shown again.")
class IssueApiTokenSuccess:
    token: ApiToken
    secret: str


@strawberry.input(
    description="A staff member's token: the role they hold (granted if missing; never beyond your own "
    "permissions there) and the moderation vendor they work for. For an existing staff member the token carries "
    "all they hold, so you must hold it all too (else FORBIDDEN); a name that only looks like another's is a "
    "CONFLICT."
)
class IssueStaffTokenInput:
    name: str = strawberry.field(
        description="The staff member's name (their OIDC subject, exactly); created on first use. Trimmed and "
        "Unicode-normalised (NFKC)."
    )
    role: str
    region: str = strawberry.field(description="US, EU, APAC, ROW, or `*` for every region.")
    vendor_org: str | None = strawberry.field(
        default=None,
        description="The moderation vendor they work for: QA agreement per vendor counts their decisions under it. "
        "Null keeps what is stored (in-house for a new staff member). A vendor_moderator always has one.",
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


def _issuer(context: Context, operation: str) -> Issuer:
    return Issuer(audit_context(context, operation), context.permissions, principal_uuid(context))


async def _issue(
    info: Info, issuer: Issuer, operation: str, issue: Callable[[PostgresUnitOfWork], Awaitable[IssueApiTokenSuccess]]
) -> IssueApiTokenSuccess | MutationError:
    """Run ``issue`` in the runner; a refusal the audit trail keeps is recorded once it has rolled back."""
    refused: list[EscalationRefused] = []

    async def command(uow: PostgresUnitOfWork, actor: Actor) -> IssueApiTokenSuccess:
        try:
            return await issue(uow)
        except EscalationRefused as error:
            refused.append(error)
            raise

    result = await run(info, operation, Permission.TOKENS_ISSUE, command)
    if refused:
        try:
            await identity.audit_refusal(info.context.sessions, issuer.audit, refused[-1])
        except Exception:  # the refusal stands even if its record could not be written
            log.exception("could not record a refused %s", operation)
    return result


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
        request = PartnerToken(
            input.partner_org, input.scopes, input.region, input.name, input.expires_in, tuple(input.documents or ())
        )
        issuer = _issuer(context, "issueApiToken")

        async def issue(uow: PostgresUnitOfWork) -> IssueApiTokenSuccess:
            record, secret = await identity.issue_partner_token(uow, issuer, request, now)
            return IssueApiTokenSuccess(token=ApiToken.from_record(record, now), secret=secret)

        return await _issue(info, issuer, "issueApiToken", issue)

    @strawberry.mutation(
        extensions=requires(Permission.TOKENS_ISSUE),
        description="Issue a staff member's token (what `vigil token issue --role --vendor` does); the secret is "
        "returned once.",
    )
    async def issue_staff_token(self, info: Info, input: IssueStaffTokenInput) -> IssueStaffTokenResult:
        now = datetime.now(UTC)
        request = StaffToken(input.role, input.region, input.name, input.expires_in, input.vendor_org, via="GraphQL")
        issuer = _issuer(info.context, "issueStaffToken")

        async def issue(uow: PostgresUnitOfWork) -> IssueApiTokenSuccess:
            record, secret = await identity.issue_staff_token(uow, issuer, request, now)
            return IssueApiTokenSuccess(token=ApiToken.from_record(record, now), secret=secret)

        return await _issue(info, issuer, "issueStaffToken", issue)

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
