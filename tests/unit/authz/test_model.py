"""model.conf semantics with plain casbin (no Authorizer), and the Authorizer's refusal of a bad policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import casbin
import pytest

import authz
from authz.enforcer import Authorizer, PolicyError
from authz.principal import Principal

PACKAGE = Path(authz.__file__).parent
MODEL = PACKAGE / "model.conf"
REGIONS = ("US", "EU", "APAC", "ROW")


def _enforcer(policy: Path, *assignments: tuple[str, str, str]) -> Any:
    enforcer = casbin.Enforcer(str(MODEL), str(policy))
    for user, role, region in assignments:
        enforcer.add_grouping_policy(user, role, region)
    return enforcer


def _allowed_regions(enforcer: Any, user: str, obj: str, act: str) -> set[str]:
    return {region for region in (*REGIONS, "*") if enforcer.enforce(user, region, obj, act)}


@pytest.fixture
def regional_policy(tmp_path: Path) -> Path:
    """A policy with one region-specific rule, to exercise the p-side of the matcher."""
    path = tmp_path / "policy.csv"
    path.write_text("# test\np, moderator, *, cases, read\np, moderator, US, cases, decide\n")
    return path


def test_role_held_in_one_region_applies_there_only() -> None:
    enforcer = _enforcer(PACKAGE / "policy.csv", ("alice", "moderator", "US"))
    assert _allowed_regions(enforcer, "alice", "cases", "decide") == {"US"}


def test_role_held_in_star_applies_in_every_region_and_to_star_requests() -> None:
    enforcer = _enforcer(PACKAGE / "policy.csv", ("alice", "moderator", "*"))
    assert _allowed_regions(enforcer, "alice", "cases", "decide") == {*REGIONS, "*"}


def test_unassigned_user_and_unknown_action_are_denied() -> None:
    enforcer = _enforcer(PACKAGE / "policy.csv", ("alice", "moderator", "*"))
    assert _allowed_regions(enforcer, "bob", "cases", "decide") == set()
    assert _allowed_regions(enforcer, "alice", "cases", "delete") == set()
    assert _allowed_regions(enforcer, "alice", "audit", "read") == set()


def test_star_rule_covers_every_region_and_regional_rule_only_its_own(regional_policy: Path) -> None:
    enforcer = _enforcer(regional_policy, ("global", "moderator", "*"), ("eu", "moderator", "EU"))
    assert _allowed_regions(enforcer, "global", "cases", "read") == {*REGIONS, "*"}
    assert _allowed_regions(enforcer, "global", "cases", "decide") == {"US"}
    assert _allowed_regions(enforcer, "eu", "cases", "read") == {"EU"}
    assert _allowed_regions(enforcer, "eu", "cases", "decide") == set()


def test_authorizer_agrees_with_plain_casbin_on_regional_rules(regional_policy: Path) -> None:
    authorizer = Authorizer(policy_path=regional_policy)
    everywhere = authorizer.permission_map(Principal.staff("g", "G", frozenset({("moderator", "*")})))
    in_eu = authorizer.permission_map(Principal.staff("e", "E", frozenset({("moderator", "EU")})))
    assert everywhere.regions("cases:read") is None
    assert everywhere.regions("cases:decide") == frozenset({"US"})
    assert in_eu.regions("cases:read") == frozenset({"EU"})
    assert in_eu.regions("cases:decide") == frozenset()


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("p, moderator, *, cases, destroy", "unknown permission cases:destroy"),
        ("p, superuser, *, cases, read", "unknown role 'superuser'"),
        ("p, moderator, MARS, cases, read", "unknown region 'MARS'"),
        ("g, alice, moderator, US", "must not assign roles"),
    ],
)
def test_authorizer_refuses_a_policy_outside_the_catalogue(tmp_path: Path, line: str, complaint: str) -> None:
    policy = tmp_path / "policy.csv"
    policy.write_text(f"p, moderator, *, cases, read\n{line}\n")
    with pytest.raises(PolicyError, match=complaint):
        Authorizer(policy_path=policy)
