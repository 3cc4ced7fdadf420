"""From a principal to the domain's ``Actor``: who acts, how senior, and what they may do where.

The one place that says how permissions become the domain's vocabulary:
- seniority: the highest ``ROLE_SENIORITY`` among the roles held where the command's permission holds;
- capabilities (``domain.actor.Capability``): held in the regions where the permission behind each holds
  (``CAPABILITY_PERMISSIONS``); the domain checks them (``domain.enforcement.ensure_may_apply``);
- queue roles (``roles_in``): a partner token holding the permission of the queue's work there works it as a
  vendor moderator.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from authz.enforcer import PermissionMap
from authz.permissions import Permission
from authz.principal import Principal, PrincipalKind
from authz.roles import GLOBAL_REGION, Role
from domain.actor import Actor, ActorKind, Capability, Grant
from domain.region import Region

CAPABILITY_PERMISSIONS: Final = MappingProxyType({Capability.SANCTION_ACCOUNTS: Permission.ACCOUNTS_BAN})
"""The permission that grants each capability, region by region."""

PARTNER_QUEUE_ROLE: Final = Role.VENDOR_MODERATOR
"""The role a partner token works a queue as (vendor tooling acts for vendor moderators)."""


def capabilities(permissions: PermissionMap) -> frozenset[Grant]:
    grants: set[Grant] = set()
    for capability, permission in CAPABILITY_PERMISSIONS.items():
        regions = permissions.regions(permission)
        held = tuple(Region) if regions is None else tuple(Region(r) for r in regions)
        grants.update((capability, region) for region in held)
    return frozenset(grants)


def actor_for(principal: Principal, permissions: PermissionMap, permission: Permission) -> Actor:
    """The actor of a command that needs ``permission``."""
    granted = capabilities(permissions)
    if principal.kind is PrincipalKind.PARTNER:
        return Actor(id=f"partner:{principal.partner_org}", kind=ActorKind.TOKEN, seniority=0, capabilities=granted)
    regions = permissions.regions(permission)
    candidates = tuple(r.value for r in Region) if regions is None else tuple(regions)
    seniority = max((permissions.seniority(r) for r in candidates), default=0)
    kind = ActorKind.SYSTEM if principal.kind is PrincipalKind.SYSTEM else ActorKind.STAFF
    return Actor(id=principal.id, kind=kind, seniority=seniority, capabilities=granted)


def roles_in(
    principal: Principal, permissions: PermissionMap, region: Region, permission: Permission
) -> frozenset[str]:
    """The roles the caller works a queue of ``region`` with (queues name the roles that may work them)."""
    if principal.kind is PrincipalKind.PARTNER:
        allowed = permissions.allows(permission, region.value)
        return frozenset({PARTNER_QUEUE_ROLE.value}) if allowed else frozenset()
    held = permissions.role_assignments
    return frozenset(role.value for role, where in held if where in (region.value, GLOBAL_REGION))
