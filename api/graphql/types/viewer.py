"""`viewer`: who the API thinks you are, and what you may do where."""

from __future__ import annotations

import strawberry


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
