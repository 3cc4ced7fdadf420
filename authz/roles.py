"""Roles, regions and seniority: the vocabulary of role assignments ((role, region) rows in the database)."""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final

from domain import seniority
from domain.region import Region

GLOBAL_REGION: Final = "*"
"""A role held in ``*`` applies in every region."""

KNOWN_REGIONS: Final[frozenset[str]] = frozenset(r.value for r in Region)
"""The data regions. ``*`` is not a region: it is the wildcard for role assignments and token regions."""


class Role(StrEnum):
    ADMIN = "admin"
    POLICY_MANAGER = "policy_manager"
    MODERATOR = "moderator"
    SENIOR_MODERATOR = "senior_moderator"
    VENDOR_MODERATOR = "vendor_moderator"
    QA_REVIEWER = "qa_reviewer"
    ANALYST = "analyst"
    AUDITOR = "auditor"


KNOWN_ROLES: Final[frozenset[str]] = frozenset(Role)

ROLE_SENIORITY: Final = MappingProxyType(
    {
        Role.ADMIN: seniority.ADMIN,
        Role.POLICY_MANAGER: seniority.POLICY_MANAGER,
        Role.SENIOR_MODERATOR: seniority.SENIOR_MODERATOR,
        Role.MODERATOR: seniority.MODERATOR,
        Role.VENDOR_MODERATOR: seniority.VENDOR_MODERATOR,
        Role.QA_REVIEWER: seniority.VENDOR_MODERATOR,  # reviews, never outranks a moderator's decision
        Role.ANALYST: seniority.AUTOMATION,  # decides nothing
        Role.AUDITOR: seniority.AUTOMATION,  # decides nothing
    }
)
"""Decision seniority: an appeal is decided by someone of at least the original decider's seniority."""


def validate_role(role: str) -> Role:
    """The role, or ``ValueError`` naming the known ones. Use it wherever a role assignment is written."""
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(sorted(KNOWN_ROLES))
        raise ValueError(f"unknown role {role!r}; expected one of: {known}") from None


def validate_region(region: str, *, allow_global: bool = True) -> str:
    """The region, or ``ValueError``. ``*`` (every region) is accepted unless ``allow_global`` is False."""
    if region in KNOWN_REGIONS or (allow_global and region == GLOBAL_REGION):
        return region
    expected = ", ".join(sorted(KNOWN_REGIONS)) + (" or '*'" if allow_global else "")
    raise ValueError(f"unknown region {region!r}; expected one of: {expected}")
