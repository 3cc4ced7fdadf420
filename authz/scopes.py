"""Partner token scopes: presets, parsing, and the issue-time cap ("a token never exceeds its issuer").

A partner token's principal holds no roles: its permissions are its scopes, restricted to its region (see
``Authorizer.permission_map``). Whoever issues the token must hold every scope in that region themselves;
``check_token_scopes`` is the check, run before a token is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from authz.enforcer import PermissionMap
from authz.permissions import NON_DELEGABLE, PERMISSION_NAMES, Permission
from authz.roles import validate_region


class ScopePreset(StrEnum):
    TRUSTED_FLAGGER = "trusted_flagger"
    PLATFORM_SERVICE = "platform_service"
    VENDOR_TOOLING = "vendor_tooling"
    EVENT_CONSUMER = "event_consumer"


SCOPE_PRESETS: Final = MappingProxyType(
    {
        # Files reports and follows their status; sees nobody else's reports and no records.
        ScopePreset.TRUSTED_FLAGGER: frozenset({Permission.REPORTS_CREATE, Permission.REPORTS_READ_OWN}),
        # The upstream platform: syncs accounts, content, ads; forwards user reports, classifier signals and
        # the appeals its users file against decisions on their accounts.
        ScopePreset.PLATFORM_SERVICE: frozenset(
            {
                Permission.APPEALS_CREATE,
                Permission.ACCOUNTS_WRITE,
                Permission.CONTENT_WRITE,
                Permission.ADS_WRITE,
                Permission.REPORTS_CREATE,
                Permission.REPORTS_READ_OWN,
                Permission.SIGNALS_CREATE,
                Permission.PLATFORM_EVENTS_SUBMIT,
            }
        ),
        # A moderation vendor's own tooling, working cases on behalf of its vendor moderators.
        ScopePreset.VENDOR_TOOLING: frozenset(
            {
                Permission.CASES_READ,
                Permission.CASES_CLAIM,
                Permission.CASES_DECIDE,
                Permission.CASES_ESCALATE,
            }
        ),
        # Hears what Vigil decides: reads the outbound events of its region and manages its own webhooks.
        ScopePreset.EVENT_CONSUMER: frozenset({Permission.EVENTS_READ, Permission.WEBHOOKS_MANAGE}),
    }
)


def preset_scopes(name: str) -> frozenset[Permission]:
    """The scopes of a preset; ``ValueError`` naming the presets if unknown."""
    try:
        return SCOPE_PRESETS[ScopePreset(name)]
    except ValueError:
        known = ", ".join(ScopePreset)
        raise ValueError(f"unknown scope preset {name!r}; expected one of: {known}") from None


def resolve_scopes(values: Iterable[str]) -> frozenset[Permission]:
    """Preset names and permission names (``trusted_flagger``, ``reports:create``) to a set of permissions.

    ``ValueError`` lists every value that is neither.
    """
    scopes: set[Permission] = set()
    unknown: list[str] = []
    for value in values:
        if value in SCOPE_PRESETS:
            scopes |= SCOPE_PRESETS[ScopePreset(value)]
        elif value in PERMISSION_NAMES:
            scopes.add(Permission(value))
        else:
            unknown.append(value)
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}: use a preset ({', '.join(ScopePreset)}) or a permission")
    return frozenset(scopes)


def check_token_scopes(issuer_map: PermissionMap, scopes: Iterable[str], region: str) -> list[str]:
    """The scopes the issuer may NOT put on a token for ``region`` (empty list = the token may be issued).

    A scope is refused when it is not a known permission, cannot be delegated at all (``NON_DELEGABLE``), or
    is not held by the issuer in ``region`` (for ``*``: held by the issuer in every region). ``ValueError`` if
    ``region`` is not a region or ``*``.
    """
    validate_region(region)
    offending = {
        scope
        for scope in scopes
        if scope not in PERMISSION_NAMES
        or Permission(scope) in NON_DELEGABLE
        or not issuer_map.allows(Permission(scope), region)
    }
    return sorted(offending)
