from __future__ import annotations

import asyncio
import dataclasses
import threading

import pytest

from authz import (
    KNOWN_REGIONS,
    KNOWN_ROLES,
    Authorizer,
    Permission,
    PermissionDenied,
    PermissionMap,
    Principal,
    get_authorizer,
    validate_region,
    validate_role,
)
from authz.permissions import PERMISSION_DESCRIPTIONS

US_MODERATOR_EU_SENIOR = frozenset({("moderator", "US"), ("senior_moderator", "EU")})


def staff(*roles: tuple[str, str]) -> Principal:
    return Principal.staff("u-1", "Test", frozenset(roles))


def test_every_permission_has_a_description_kind_and_action() -> None:
    assert set(PERMISSION_DESCRIPTIONS) == set(Permission)
    assert all(PERMISSION_DESCRIPTIONS[p].strip() for p in Permission)
    assert len(Permission) == 42
    assert Permission.LADDERS_DEFINE.kind == "ladders"
    assert Permission.LADDERS_DEFINE.action == "define"
    assert Permission.EVENTS_READ.kind == "events"
    assert Permission.EVENTS_READ.action == "read"
    assert Permission.from_casbin("pii", "read") is Permission.PII_READ


def test_union_of_assignments_keeps_each_grant_in_its_region(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(staff(*US_MODERATOR_EU_SENIOR))
    assert pmap.regions("cases:decide") == frozenset({"US", "EU"})
    assert pmap.regions("appeals:decide") == frozenset({"EU"})
    assert pmap.regions("audit:read") == frozenset()


def test_a_global_assignment_wins_over_regional_ones(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(staff(("moderator", "US"), ("moderator", "*")))
    assert pmap.regions("cases:decide") is None


def test_allows_region_semantics(authorizer: Authorizer) -> None:
    regional = authorizer.permission_map(staff(("moderator", "US")))
    everywhere = authorizer.permission_map(staff(("moderator", "*")))
    assert regional.allows("cases:read")
    assert regional.allows("cases:read", "US")
    assert not regional.allows("cases:read", "EU")
    assert not regional.allows("cases:read", "*")
    assert everywhere.allows("cases:read", "*")
    assert not everywhere.allows("cases:read", "MARS")
    assert not regional.allows(Permission.AUDIT_READ)


def test_an_unknown_permission_is_an_error_not_a_denial(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(staff(("admin", "*")))
    with pytest.raises(ValueError, match="unknown permission 'cases:decid'"):
        pmap.allows("cases:decid")
    with pytest.raises(ValueError, match="unknown permission 'cases:decid'"):
        pmap.regions("cases:decid")


def test_require_raises_permission_denied(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(staff(("moderator", "US")))
    pmap.require("cases:decide", "US")
    with pytest.raises(PermissionDenied, match="cases:decide in region EU") as denied:
        pmap.require("cases:decide", "EU")
    assert denied.value.permission is Permission.CASES_DECIDE
    assert denied.value.region == "EU"


def test_anonymous_holds_nothing(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(Principal.anonymous())
    assert pmap.permissions == frozenset()
    assert not any(pmap.allows(p) for p in Permission)
    assert pmap.seniority("US") == 0


def test_unknown_role_or_region_grants_nothing_and_is_reported(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(staff(("superuser", "*"), ("moderator", "MARS"), ("analyst", "EU")))
    analyst = {
        Permission.METRICS_READ,
        Permission.QUEUES_READ,
        Permission.POLICIES_READ,
        Permission.LADDERS_READ,
        Permission.RULES_READ,
        Permission.RULES_BACKTEST,
    }
    assert pmap.permissions == analyst
    assert len(pmap.ignored) == 2
    assert any("superuser" in reason for reason in pmap.ignored)
    assert any("MARS" in reason for reason in pmap.ignored)


@pytest.mark.parametrize(
    ("roles", "region", "expected"),
    [
        ((("vendor_moderator", "US"),), "US", 1),
        ((("qa_reviewer", "US"),), "US", 1),
        ((("moderator", "US"),), "US", 2),
        ((("senior_moderator", "US"),), "US", 3),
        ((("policy_manager", "US"),), "US", 4),
        ((("admin", "*"),), "APAC", 5),
        ((("auditor", "*"), ("analyst", "US")), "US", 0),
        ((("moderator", "US"), ("senior_moderator", "EU")), "US", 2),
        ((("moderator", "US"), ("senior_moderator", "EU")), "EU", 3),
        ((("moderator", "US"), ("senior_moderator", "EU")), "ROW", 0),
        ((("vendor_moderator", "*"), ("senior_moderator", "EU")), "ROW", 1),
        ((("moderator", "US"),), "*", 0),
    ],
)
def test_seniority(authorizer: Authorizer, roles: tuple[tuple[str, str], ...], region: str, expected: int) -> None:
    assert authorizer.permission_map(staff(*roles)).seniority(region) == expected


def test_permission_map_is_immutable(authorizer: Authorizer) -> None:
    pmap = authorizer.permission_map(staff(("moderator", "US")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        pmap.principal_id = "someone-else"  # type: ignore[misc]
    with pytest.raises(TypeError):
        pmap.grants[Permission.AUDIT_READ] = None  # type: ignore[index]


def test_validation_helpers() -> None:
    assert frozenset({"US", "EU", "APAC", "ROW"}) == KNOWN_REGIONS
    assert len(KNOWN_ROLES) == 8
    assert validate_role("moderator") == "moderator"
    assert validate_region("EU") == "EU"
    assert validate_region("*") == "*"
    with pytest.raises(ValueError, match="unknown role 'root'"):
        validate_role("root")
    with pytest.raises(ValueError, match="unknown region 'us'"):
        validate_region("us")
    with pytest.raises(ValueError, match="unknown region"):
        validate_region("*", allow_global=False)


def test_get_authorizer_is_one_per_process() -> None:
    assert get_authorizer() is get_authorizer()


# --- cost: enforce() is called a bounded number of times per request, never per item -----------------------


def _visible_items(pmap: PermissionMap, count: int) -> int:
    """A list page of ``count`` cases spread round-robin over the four regions, filtered item by item."""
    regions = ("US", "EU", "APAC", "ROW")
    return sum(pmap.allows("cases:read", regions[i % 4]) for i in range(count))


def test_a_cold_map_costs_at_most_catalogue_x_regions_per_assignment(fresh_authorizer: Authorizer) -> None:
    pmap = fresh_authorizer.permission_map(staff(*US_MODERATOR_EU_SENIOR))
    assert 0 < pmap.enforce_calls <= 2 * len(Permission) * (len(KNOWN_REGIONS) + 1)
    assert fresh_authorizer.enforce_calls == pmap.enforce_calls


def test_a_warm_map_costs_no_enforce_call(fresh_authorizer: Authorizer) -> None:
    fresh_authorizer.permission_map(staff(*US_MODERATOR_EU_SENIOR))
    before = fresh_authorizer.enforce_calls
    again = fresh_authorizer.permission_map(Principal.staff("u-2", "Other", US_MODERATOR_EU_SENIOR))
    assert again.enforce_calls == 0
    assert fresh_authorizer.enforce_calls == before


def test_after_warm_up_no_request_calls_enforce(fresh_authorizer: Authorizer) -> None:
    fresh_authorizer.warm_up()
    before = fresh_authorizer.enforce_calls
    for role in sorted(KNOWN_ROLES):
        for region in (*sorted(KNOWN_REGIONS), "*"):
            fresh_authorizer.permission_map(staff((role, region)))
    assert fresh_authorizer.enforce_calls == before


def test_the_gradual_warm_up_builds_the_same_tables_and_yields_between_permissions(
    fresh_authorizer: Authorizer,
) -> None:
    turns = 0

    async def warm_up_counting_turns() -> None:
        nonlocal turns
        warming = asyncio.ensure_future(fresh_authorizer.warm_up_gradually())
        while not warming.done():
            turns += 1
            await asyncio.sleep(0)

    asyncio.run(warm_up_counting_turns())
    at_once = Authorizer()
    at_once.warm_up()
    for role in sorted(KNOWN_ROLES):
        for region in (*sorted(KNOWN_REGIONS), "*"):
            assert fresh_authorizer.role_grants(role, region) == at_once.role_grants(role, region)
    assert turns >= len(Permission)  # a request waits behind one permission, not a whole table


def test_enforce_calls_do_not_depend_on_the_number_of_items() -> None:
    calls = {}
    for items in (4, 400, 10_000):
        authorizer = Authorizer()
        pmap = authorizer.permission_map(staff(*US_MODERATOR_EU_SENIOR))
        assert _visible_items(pmap, items) == items // 2  # the US and EU quarters
        calls[items] = authorizer.enforce_calls
    assert calls[4] == calls[400] == calls[10_000] > 0


def test_concurrent_cold_maps_agree_and_compute_each_table_once(fresh_authorizer: Authorizer) -> None:
    results: list[PermissionMap] = []
    threads = [
        threading.Thread(target=lambda: results.append(fresh_authorizer.permission_map(staff(("moderator", "*")))))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({frozenset(r.grants.items()) for r in results}) == 1
    assert sum(r.enforce_calls for r in results) == fresh_authorizer.enforce_calls
