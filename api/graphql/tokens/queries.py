"""Tokens' root fields: `viewer` (who the API thinks you are, and what you may do where) and `apiTokens`."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.permissions import public, requires
from api.graphql.shared.common import Connection, connection
from api.graphql.tokens.types import ApiToken, PermissionGrant, RoleGrant, Viewer, principal_uuid
from authz.permissions import Permission
from domain.errors import DomainError
from persistence.pagination import Page
from persistence.principals import list_tokens


@strawberry.type
class ViewerQuery:
    @strawberry.field(extensions=public(), description="The caller: principal, roles and permissions by region.")
    def viewer(self, info: Info) -> Viewer:
        ctx = info.context
        p = ctx.principal
        grants = [
            PermissionGrant(permission=perm.value, regions=sorted(regions) if regions is not None else ["*"])
            for perm, regions in ctx.permissions.grants.items()
        ]
        return Viewer(
            id=p.id,
            kind=p.kind.value,
            display_name=p.display_name,
            authenticated=p.is_authenticated,
            roles=[RoleGrant(role=r, region=g) for r, g in sorted(p.roles)],
            permissions=sorted(grants, key=lambda g: g.permission),
            partner_org=p.partner_org,
            token_region=p.region,
        )


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
                    viewer_id=principal_uuid(context),
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
