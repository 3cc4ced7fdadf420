"""Who may see which record: the one rule every root field and every nested relation applies.

A record is visible when the reader holds the read permission of its type in the record's region (global
records, such as policies, need the permission in any region). A partner holding only `reports:read_own`
sees its own reports and nothing they point to, except the status that `Report.status` gives it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from api.graphql.context import Context
from authz.permissions import Permission

N = TypeVar("N")

READ_PERMISSION: dict[str, Permission] = {
    "Account": Permission.ACCOUNTS_READ,
    "Content": Permission.CONTENT_READ,
    "Ad": Permission.ADS_READ,
    "Policy": Permission.POLICIES_READ,
    "PolicyVersion": Permission.POLICIES_READ,
    "StrikeLadder": Permission.LADDERS_READ,
    "Report": Permission.REPORTS_READ,
    "Case": Permission.CASES_READ,
    "Decision": Permission.CASES_READ,
    "EnforcementAction": Permission.CASES_READ,
    "Strike": Permission.ACCOUNTS_READ,
    "Appeal": Permission.APPEALS_READ,
    "AuthorityOrder": Permission.METRICS_READ,
    "OutOfCourtDispute": Permission.APPEALS_READ,
    "TrustedDocument": Permission.DOCUMENTS_READ,
    "Rule": Permission.RULES_READ,
    "NamedList": Permission.RULES_READ,
}


def own_reporter_id(context: Context) -> str:
    """The reporter id a principal's own reports carry (partners: their organisation, across tokens)."""
    principal = context.principal
    return f"partner:{principal.partner_org}" if principal.partner_org else principal.id


def visible(context: Context, type_name: str, entity: Any) -> bool:
    region = getattr(entity, "region", None)
    value = None if region is None else region._value_  # what ``.value`` answers, without its descriptor
    loaders = context.loaders
    if loaders.permissions is context.permissions:  # the request's answers, each asked once (a page: ~750 asks)
        readable = loaders.readable
        allowed = readable.get((type_name, value))
        if allowed is None:
            allowed = readable[type_name, value] = context.permissions.allows(READ_PERMISSION[type_name], value)
    else:
        allowed = context.permissions.allows(READ_PERMISSION[type_name], value)
    if allowed or region is None:
        return bool(allowed)
    return (
        type_name == "Report"
        and context.permissions.allows(Permission.REPORTS_READ_OWN, region.value)
        and entity.reporter_id == own_reporter_id(context)
    )
