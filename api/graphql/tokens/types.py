"""The caller (`Viewer`, its roles and permissions) and API tokens as stored.

A token's secret appears exactly once, in `IssueApiTokenSuccess.secret`; afterwards only its prefix is ever shown."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from api.graphql.context import Context
from api.graphql.ids import to_global_id
from authz.principal import PrincipalKind
from persistence.principals import TokenRecord, TokenStatus


@strawberry.type(description="A role held in a region (`*`: every region).")
class RoleGrant:
    role: str
    region: str


@strawberry.type(description="A permission and the regions it holds in (`*`: every region).")
class PermissionGrant:
    permission: str
    regions: list[str]


@strawberry.type(description="The caller of this request.")
class Viewer:
    id: str
    kind: str
    display_name: str
    authenticated: bool
    roles: list[RoleGrant]
    permissions: list[PermissionGrant]
    partner_org: str | None
    token_region: str | None


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


def principal_uuid(context: Context) -> uuid.UUID | None:
    """The caller's row in `principals` (staff), or None (a partner token or the system)."""
    if context.principal.kind is not PrincipalKind.STAFF:
        return None
    try:
        return uuid.UUID(context.principal.id)
    except ValueError:
        return None
