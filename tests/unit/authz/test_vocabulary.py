"""One vocabulary: the regions and seniority levels that authz, persistence and the API use are the domain's."""

from __future__ import annotations

from authz.roles import KNOWN_REGIONS, ROLE_SENIORITY, Role
from domain import seniority
from domain.region import Region
from persistence.tables.columns import REGIONS


def test_every_layer_knows_the_domains_regions() -> None:
    assert {r.value for r in Region} == KNOWN_REGIONS
    assert tuple(r.value for r in Region) == REGIONS


def test_role_seniority_is_the_domains_scale() -> None:
    levels = {
        seniority.AUTOMATION,
        seniority.VENDOR_MODERATOR,
        seniority.MODERATOR,
        seniority.SENIOR_MODERATOR,
        seniority.POLICY_MANAGER,
        seniority.ADMIN,
    }
    assert set(ROLE_SENIORITY) == set(Role)
    assert set(ROLE_SENIORITY.values()) <= levels
    # The domain's rule (an escalated case needs a senior moderator) holds for exactly the senior roles.
    senior = {role for role, level in ROLE_SENIORITY.items() if level >= seniority.ESCALATED_CASE_MIN}
    assert senior == {Role.SENIOR_MODERATOR, Role.POLICY_MANAGER, Role.ADMIN}
    assert ROLE_SENIORITY[Role.MODERATOR] == seniority.MODERATOR
    assert ROLE_SENIORITY[Role.VENDOR_MODERATOR] == seniority.VENDOR_MODERATOR
