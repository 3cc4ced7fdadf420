"""No privilege escalation: the one rule every path that creates or changes principals and tokens applies.

    A caller never obtains, by any path, a token or a principal holding a power it does not hold itself:
    every (permission, region) the result may exercise, the caller may exercise too.

A *power* is a permission in a region (``*``: in every region at once). What a result may exercise:

- a **staff token** acts as its principal with *all* its role assignments, so issuing one for an existing staff
  member needs every power that member already holds, plus those of the role being granted
  (``staff_token_powers``). Naming an existing principal is attaching to it, whatever the role asked for;
- a **partner token** exercises its scopes in its region, and, through what its organisation owns (webhooks,
  vendor staff, the organisation's other tokens), in every region where the organisation already operates; so
  issuing one for an existing organisation also needs ``tokens:issue`` and its scopes in each of those regions
  (``partner_token_powers``).

``lacking`` says which powers the caller lacks; empty means the result may be issued. The identity service
(``api.services.identity``) applies it for GraphQL and the command line; the operator at the command line (``None``) is
not bound by it (it has the database), but never attaches to an existing principal holding more than it asked
for without saying so (``vigil token issue --existing``). An OIDC login never creates or changes a principal:
its subject must equal a stored staff name exactly (``persistence.principals.staff_principal``).
"""

from __future__ import annotations

from collections.abc import Iterable

from authz.enforcer import ALL_REGIONS, Authorizer, PermissionMap, get_authorizer
from authz.permissions import Permission
from authz.principal import RoleAssignment
from authz.roles import GLOBAL_REGION

Power = tuple[Permission, str]
"""A permission and the region it holds in (``*``: every region)."""


def role_powers(assignments: Iterable[RoleAssignment], authorizer: Authorizer | None = None) -> frozenset[Power]:
    """The powers a set of role assignments grants, from the real policy. An unknown role or region grants
    nothing (as ``Authorizer.permission_map`` ignores it), so it adds no power."""
    policy = authorizer or get_authorizer()
    powers: set[Power] = set()
    for role, region in assignments:
        try:
            table = policy.role_grants(role, region)
        except ValueError:
            continue
        for permission, regions in table.items():
            if regions is ALL_REGIONS:
                powers.add((permission, GLOBAL_REGION))
            else:
                powers.update((permission, held) for held in regions)
    return frozenset(powers)


def staff_token_powers(
    held: Iterable[RoleAssignment], role: str, region: str, authorizer: Authorizer | None = None
) -> frozenset[Power]:
    """What a token for a staff member holding ``held``, once granted ``role`` in ``region``, may exercise."""
    return role_powers({*held, (role, region)}, authorizer)


def partner_token_powers(
    scopes: Iterable[Permission], region: str, organisation_regions: Iterable[str]
) -> frozenset[Power]:
    """What a partner token with ``scopes`` in ``region`` may exercise when its organisation already operates in
    ``organisation_regions``: its scopes there too, and authority over the organisation (``tokens:issue``)."""
    existing = set(organisation_regions)
    powers = {(scope, where) for scope in scopes for where in {region, *existing}}
    powers.update((Permission.TOKENS_ISSUE, where) for where in existing)
    return frozenset(powers)


def lacking(caller: PermissionMap | None, powers: Iterable[Power]) -> list[str]:
    """The powers ``caller`` does not hold, as ``"<permission> in <region>"`` (``None``, the operator: none)."""
    if caller is None:
        return []
    missing = {(p, where) for p, where in powers if not caller.allows(p, where)}
    return [f"{p.value} in {'every region' if where == GLOBAL_REGION else where}" for p, where in sorted(missing)]
