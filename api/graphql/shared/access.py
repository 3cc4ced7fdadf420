"""Permission rules more than one area applies: whose roles work a queue (cases and appeals), and who reads a
region's figures (moderation metrics and the transparency report)."""

from __future__ import annotations

from datetime import datetime

from api.graphql.context import Context
from api.graphql.errors import BadRequest, Forbidden
from authz.actors import roles_in as authz_roles_in
from authz.permissions import Permission
from domain.region import Region


def roles_in(context: Context, region: Region, permission: Permission = Permission.CASES_CLAIM) -> frozenset[str]:
    """The caller's roles for a queue of ``region`` (the rule: ``authz.actors.roles_in``)."""
    return authz_roles_in(context.principal, context.permissions, region, permission)


def check_metrics_window(context: Context, region: Region, start: datetime, end: datetime) -> None:
    """Figures of a region need metrics:read there, over a window that ends after it starts."""
    if not context.permissions.allows(Permission.METRICS_READ, region.value):
        raise Forbidden(f"permission metrics:read is required in region {region.value}")
    if start >= end:
        raise BadRequest("`from` must be before `to`", field="from")
