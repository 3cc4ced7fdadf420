"""The `viewer` root field (its types are in `types/viewer.py`): who the API thinks you are."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.graphql.permissions import public
from api.graphql.types.viewer import PermissionGrant, RoleGrant, Viewer


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
