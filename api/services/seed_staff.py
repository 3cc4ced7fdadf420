"""Demo principals: staff of every role in US and EU, a global admin and auditor, a trusted-flagger partner.

Names follow `vigil token issue`'s default (`<role>-<region>`, `admin-global`), so
`vigil token issue --role moderator --region US` issues a token for the seeded `moderator-US`.
"""

from __future__ import annotations

from typing import Final

from api.services.identity import staff_name
from authz.roles import GLOBAL_REGION, Role
from persistence.demo import principal_exists
from persistence.principals import ensure_partner, ensure_staff_detailed
from persistence.uow import SqlUnitOfWork

STAFF_REGIONS: Final = ("US", "EU")
GLOBAL_STAFF: Final = ((Role.ADMIN, GLOBAL_REGION), (Role.AUDITOR, GLOBAL_REGION))
TRUSTED_FLAGGER_ORG: Final = "trusted-flagger-eu"
DEMO_VENDOR: Final = "outsourcing-co"
"""The moderation vendor the demo's vendor moderators work for (a vendor moderator always belongs to one)."""


def demo_staff() -> list[tuple[str, Role, str]]:
    """(name, role, region) of every demo staff member."""
    regional = [(role, region) for region in STAFF_REGIONS for role in Role]
    return [(staff_name(role.value, region), role, region) for role, region in (*regional, *GLOBAL_STAFF)]


def _display_name(role: Role, region: str) -> str:
    where = "global" if region == GLOBAL_REGION else region
    return f"{role.value.replace('_', ' ').capitalize()} ({where})"


async def seed_staff(uow: SqlUnitOfWork) -> dict[str, int]:
    """Create what is missing (idempotent: a second run creates nothing), in ``uow``.

    Returns how many staff principals and role assignments were created, and the partner count (0 or 1).
    """
    created = roles = 0
    for name, role, region in demo_staff():
        vendor = DEMO_VENDOR if role is Role.VENDOR_MODERATOR else None
        ensured = await ensure_staff_detailed(
            uow, name=name, display_name=_display_name(role, region), role=role.value, region=region, vendor_org=vendor
        )
        created += ensured.created
        roles += ensured.role_added
    partners_before = await principal_exists(uow.session, TRUSTED_FLAGGER_ORG)
    await ensure_partner(uow, TRUSTED_FLAGGER_ORG)
    return {"staff": created, "role_assignments": roles, "partners": 0 if partners_before else 1}
