"""The no-escalation rule on the real policy: what a token would carry, and what of it the caller lacks."""

from __future__ import annotations

from authz.enforcer import Authorizer
from authz.escalation import lacking, partner_token_powers, role_powers, staff_token_powers
from authz.permissions import Permission
from authz.principal import Principal


def test_a_token_for_the_global_admin_is_beyond_an_eu_admin(authorizer: Authorizer) -> None:
    eu_admin = authorizer.permission_map(Principal.staff("c", "c", frozenset({("admin", "EU")})))
    powers = staff_token_powers({("admin", "*")}, "moderator", "EU", authorizer)
    missing = lacking(eu_admin, powers)
    assert "pii:read in every region" in missing
    assert not any(m.endswith(" in EU") for m in missing)  # the moderator role asked for is within reach
    global_admin = authorizer.permission_map(Principal.staff("g", "g", frozenset({("admin", "*")})))
    assert lacking(global_admin, powers) == []


def test_every_held_assignment_counts(authorizer: Authorizer) -> None:
    eu_admin = authorizer.permission_map(Principal.staff("c", "c", frozenset({("admin", "EU")})))
    ops_lead = {("auditor", "EU"), ("analyst", "APAC")}
    assert lacking(eu_admin, staff_token_powers(ops_lead, "moderator", "EU", authorizer)) == [
        f"{p} in APAC" for p in sorted(p.value for p, _ in role_powers({("analyst", "APAC")}, authorizer))
    ]
    assert lacking(eu_admin, staff_token_powers({("auditor", "EU")}, "moderator", "EU", authorizer)) == []


def test_unknown_roles_grant_nothing_so_add_nothing(authorizer: Authorizer) -> None:
    assert role_powers({("overlord", "*"), ("moderator", "MARS")}, authorizer) == frozenset()


def test_an_organisation_regions_widen_a_partner_token(authorizer: Authorizer) -> None:
    eu_admin = authorizer.permission_map(Principal.staff("c", "c", frozenset({("admin", "EU")})))
    scopes = {Permission.EVENTS_READ, Permission.WEBHOOKS_MANAGE}
    assert lacking(eu_admin, partner_token_powers(scopes, "EU", set())) == []
    assert lacking(eu_admin, partner_token_powers(scopes, "EU", {"US"})) == [
        "events:read in US",
        "tokens:issue in US",
        "webhooks:manage in US",
    ]
    assert "tokens:issue in every region" in lacking(eu_admin, partner_token_powers(scopes, "EU", {"*"}))


def test_the_operator_is_not_capped(authorizer: Authorizer) -> None:
    assert lacking(None, staff_token_powers({("admin", "*")}, "moderator", "EU", authorizer)) == []
