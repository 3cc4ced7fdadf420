"""From principals to the domain's actors: seniority, sanction capabilities per region, queue roles."""

from __future__ import annotations

from authz.actors import actor_for, roles_in
from authz.enforcer import Authorizer
from authz.permissions import Permission
from authz.principal import Principal
from domain import seniority
from domain.actor import ActorKind, Capability
from domain.region import Region


def _staff(*roles: tuple[str, str]) -> Principal:
    return Principal.staff("staff-1", "Staff", frozenset(roles))


def test_accounts_ban_grants_the_sanction_capability_where_it_holds(authorizer: Authorizer) -> None:
    principal = _staff(("moderator", "US"), ("vendor_moderator", "EU"))
    actor = actor_for(principal, authorizer.permission_map(principal), Permission.CASES_DECIDE)

    assert (actor.kind, actor.seniority) == (ActorKind.STAFF, seniority.MODERATOR)
    assert actor.capabilities == frozenset({(Capability.SANCTION_ACCOUNTS, Region.US)})


def test_a_global_admin_may_sanction_everywhere(authorizer: Authorizer) -> None:
    principal = _staff(("admin", "*"))
    actor = actor_for(principal, authorizer.permission_map(principal), Permission.CASES_DECIDE)

    assert all(actor.may(Capability.SANCTION_ACCOUNTS, region) for region in Region)


def test_vendor_moderators_and_policy_managers_may_not_sanction(authorizer: Authorizer) -> None:
    for role in ("vendor_moderator", "policy_manager", "qa_reviewer"):
        principal = _staff((role, "*"))
        assert actor_for(principal, authorizer.permission_map(principal), Permission.CASES_DECIDE).capabilities == (
            frozenset()
        )


def test_a_partner_token_works_queues_as_a_vendor_moderator(authorizer: Authorizer) -> None:
    token = Principal.partner(token_id="t1", partner_org="vendor", scopes=frozenset({"cases:claim"}), region="US")
    permissions = authorizer.permission_map(token)

    assert roles_in(token, permissions, Region.US, Permission.CASES_CLAIM) == frozenset({"vendor_moderator"})
    assert roles_in(token, permissions, Region.EU, Permission.CASES_CLAIM) == frozenset()
    actor = actor_for(token, permissions, Permission.CASES_CLAIM)
    assert (actor.id, actor.kind, actor.capabilities) == ("partner:vendor", ActorKind.TOKEN, frozenset())


def test_staff_work_queues_with_the_roles_they_hold_there(authorizer: Authorizer) -> None:
    principal = _staff(("moderator", "US"), ("senior_moderator", "*"))
    permissions = authorizer.permission_map(principal)

    assert roles_in(principal, permissions, Region.US, Permission.CASES_CLAIM) == {"moderator", "senior_moderator"}
    assert roles_in(principal, permissions, Region.EU, Permission.CASES_CLAIM) == {"senior_moderator"}
