"""Authorization: who may do what, where. Principals, the Casbin-backed permission map, partner tokens.

Imports only the standard library and casbin (no web or database framework).
"""

from authz.enforcer import (
    ALL_REGIONS,
    Authorizer,
    PermissionDenied,
    PermissionMap,
    PolicyError,
    RegionSet,
    get_authorizer,
)
from authz.permissions import PERMISSION_DESCRIPTIONS, Permission
from authz.principal import Principal, PrincipalKind, RoleAssignment
from authz.roles import (
    GLOBAL_REGION,
    KNOWN_REGIONS,
    KNOWN_ROLES,
    ROLE_SENIORITY,
    Role,
    validate_region,
    validate_role,
)

__all__ = [
    "ALL_REGIONS",
    "GLOBAL_REGION",
    "KNOWN_REGIONS",
    "KNOWN_ROLES",
    "PERMISSION_DESCRIPTIONS",
    "ROLE_SENIORITY",
    "Authorizer",
    "Permission",
    "PermissionDenied",
    "PermissionMap",
    "PolicyError",
    "Principal",
    "PrincipalKind",
    "RegionSet",
    "Role",
    "RoleAssignment",
    "get_authorizer",
    "validate_region",
    "validate_role",
]
