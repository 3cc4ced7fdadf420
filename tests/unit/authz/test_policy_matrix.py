"""The role x permission x region matrix of policy.csv, against a table written here independently.

A policy edit must change this table in the same review, or these tests fail.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import authz
from authz.enforcer import Authorizer
from authz.permissions import Permission
from authz.principal import Principal

POLICY_CSV = Path(authz.__file__).parent / "policy.csv"
REGIONS = ("US", "EU", "APAC", "ROW")
ASSIGNMENT_REGIONS = (*REGIONS, "*")
ALL = frozenset(p.value for p in Permission)

_READS_OF_RECORDS = {
    "accounts:read",
    "content:read",
    "ads:read",
    "policies:read",
    "ladders:read",
    "reports:read",
    "cases:read",
    "appeals:read",
    "queues:read",
}
_MODERATOR = _READS_OF_RECORDS | {
    "accounts:ban",
    "ads:review",
    "cases:decide",
    "cases:escalate",
    "cases:claim",
    "pii:read",
}

EXPECTED: dict[str, frozenset[str]] = {
    "admin": ALL,
    "policy_manager": frozenset(
        {
            "accounts:read",
            "content:read",
            "ads:read",
            "policies:read",
            "policies:publish",
            "ladders:read",
            "ladders:define",
            "reports:read",
            "cases:read",
            "appeals:read",
            "appeals:decide",
            "queues:read",
            "queues:manage",
            "qa:read",
            "metrics:read",
            "pii:read",
            "rules:read",
            "rules:write",
            "rules:backtest",
        }
    ),
    "moderator": frozenset(_MODERATOR),
    "senior_moderator": frozenset(_MODERATOR | {"appeals:decide"}),
    "vendor_moderator": frozenset(_MODERATOR - {"pii:read", "accounts:ban"}),
    "qa_reviewer": frozenset(_READS_OF_RECORDS | {"qa:read", "qa:review"}),
    "analyst": frozenset(
        {"metrics:read", "queues:read", "policies:read", "ladders:read", "rules:read", "rules:backtest"}
    ),
    "auditor": frozenset(
        {
            "accounts:read",
            "content:read",
            "ads:read",
            "policies:read",
            "ladders:read",
            "reports:read",
            "cases:read",
            "appeals:read",
            "queues:read",
            "qa:read",
            "metrics:read",
            "audit:read",
            "pii:read",
            "tokens:read",
            "events:read",
            "rules:read",
            "documents:read",
        }
    ),
}


def _parse_policy_csv() -> list[tuple[str, str, str, str, str]]:
    """policy.csv read without casbin: (ptype, role, region, kind, action) per rule line."""
    rules = []
    for line in POLICY_CSV.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        ptype, role, region, kind, action = (part.strip() for part in line.split(","))
        rules.append((ptype, role, region, kind, action))
    return rules


def _csv_table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for _, role, _, kind, action in _parse_policy_csv():
        table.setdefault(role, set()).add(f"{kind}:{action}")
    return {role: frozenset(perms) for role, perms in table.items()}


def _map_for(authorizer: Authorizer, role: str, region: str) -> authz.PermissionMap:
    return authorizer.permission_map(Principal.staff("u-1", "Test", frozenset({(role, region)})))


def test_policy_csv_starts_with_a_comment_block() -> None:
    head = POLICY_CSV.read_text().splitlines()[:5]
    assert all(line.startswith("#") for line in head)


def test_policy_csv_only_has_global_p_rules_without_duplicates() -> None:
    rules = _parse_policy_csv()
    assert {ptype for ptype, *_ in rules} == {"p"}
    assert {region for _, _, region, _, _ in rules} == {"*"}
    assert len(rules) == len(set(rules))


def test_policy_csv_equals_the_expected_table() -> None:
    assert _csv_table() == EXPECTED


def test_expected_table_covers_every_role_and_only_catalogue_permissions() -> None:
    assert set(EXPECTED) == authz.KNOWN_ROLES
    assert set().union(*EXPECTED.values()) <= ALL


@pytest.mark.parametrize(
    ("role", "permission"),
    sorted(itertools.product(set(EXPECTED) | set(_csv_table()), ALL)),
)
def test_matrix(authorizer: Authorizer, role: str, permission: str) -> None:
    """Holding ``role`` in each assignment region grants ``permission`` exactly where the table says."""
    granted = permission in EXPECTED[role]
    actual = {
        (held_in, region): _map_for(authorizer, role, held_in).allows(permission, region)
        for held_in in ASSIGNMENT_REGIONS
        for region in REGIONS
    }
    expected = {
        (held_in, region): granted and held_in in (region, "*") for held_in in ASSIGNMENT_REGIONS for region in REGIONS
    }
    assert actual == expected


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_region_sets(authorizer: Authorizer, role: str) -> None:
    """A role held in one region yields exactly {region}; held in "*", ALL_REGIONS (None) for every grant."""
    assert dict(_map_for(authorizer, role, "EU").grants) == {Permission(p): frozenset({"EU"}) for p in EXPECTED[role]}
    assert dict(_map_for(authorizer, role, "*").grants) == {Permission(p): None for p in EXPECTED[role]}


def test_us_moderator_decides_in_us_only(authorizer: Authorizer) -> None:
    moderator = _map_for(authorizer, "moderator", "US")
    assert moderator.allows("cases:decide", "US")
    assert not moderator.allows("cases:decide", "EU")
    assert not moderator.allows("cases:read", "EU")
    assert moderator.regions("cases:decide") == frozenset({"US"})


def test_global_auditor_reads_everywhere_and_writes_nothing(authorizer: Authorizer) -> None:
    auditor = _map_for(authorizer, "auditor", "*")
    reads = {p for p in Permission if p.value.endswith(":read")}
    assert {p for p in Permission if auditor.allows(p)} == reads
    assert all(auditor.allows(p, region) for p in reads for region in (*REGIONS, "*"))
    assert not any(auditor.allows(p, region) for p in Permission if p not in reads for region in REGIONS)
    assert auditor.allows("pii:read", "APAC")
    assert auditor.allows("audit:read", "ROW")


@pytest.mark.parametrize("held_in", ASSIGNMENT_REGIONS)
def test_vendor_moderator_never_reads_pii_or_bans(authorizer: Authorizer, held_in: str) -> None:
    vendor = _map_for(authorizer, "vendor_moderator", held_in)
    assert not vendor.allows("pii:read")
    assert not vendor.allows("accounts:ban")
    assert vendor.allows("cases:decide")


@pytest.mark.parametrize("held_in", ASSIGNMENT_REGIONS)
def test_analyst_sees_aggregates_only(authorizer: Authorizer, held_in: str) -> None:
    analyst = _map_for(authorizer, "analyst", held_in)
    assert analyst.permissions == {
        Permission.METRICS_READ,
        Permission.QUEUES_READ,
        Permission.POLICIES_READ,
        Permission.LADDERS_READ,
        Permission.RULES_READ,
        Permission.RULES_BACKTEST,
    }
    assert not analyst.allows("pii:read")
    assert not analyst.allows("audit:read")
    assert not analyst.allows("cases:read")


def test_admin_holds_everything_everywhere(authorizer: Authorizer) -> None:
    admin = _map_for(authorizer, "admin", "*")
    assert all(admin.regions(p) is None for p in Permission)


def test_only_admin_manages_tokens(authorizer: Authorizer) -> None:
    issuers = {role for role in EXPECTED if _map_for(authorizer, role, "*").allows("tokens:issue")}
    assert issuers == {"admin"}


def test_outbound_events_are_read_by_admins_and_auditors_and_webhooks_managed_by_admins_only(
    authorizer: Authorizer,
) -> None:
    readers = {role for role, permissions in EXPECTED.items() if "events:read" in permissions}
    managers = {role for role, permissions in EXPECTED.items() if "webhooks:manage" in permissions}
    assert readers == {"admin", "auditor"}
    assert managers == {"admin"}
    eu_auditor = _map_for(authorizer, "auditor", "EU")
    assert eu_auditor.allows("events:read", "EU")
    assert not eu_auditor.allows("events:read", "US")
    assert not eu_auditor.allows("webhooks:manage", "EU")
    assert not _map_for(authorizer, "moderator", "*").allows("events:read", "US")
