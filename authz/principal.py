"""Who is asking: a staff member, a partner token, the system itself, or nobody.

A ``Principal`` carries *facts* loaded by the caller (role assignments from the database, a token's scopes and
region); it decides nothing. ``Authorizer.permission_map`` turns it into what it may do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

RoleAssignment = tuple[str, str]
"""``(role, region)``; region is ``US``/``EU``/``APAC``/``ROW`` or ``*`` for every region."""


class PrincipalKind(StrEnum):
    STAFF = "STAFF"
    PARTNER = "PARTNER"
    SYSTEM = "SYSTEM"
    ANONYMOUS = "ANONYMOUS"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request.

    - ``STAFF`` / ``SYSTEM``: permissions are the union over ``roles`` (role assignments, as stored).
    - ``PARTNER``: an API token. ``roles`` is empty; permissions are ``scopes`` restricted to ``region``.
      If the caller also loads the issuer's current role assignments into ``issuer_roles``, the token is
      capped by them at request time as well as at issue time (a demoted issuer's tokens shrink with them).
    - ``ANONYMOUS``: nothing.

    Role, region and scope *names* are not validated here: they come from the database, and an unknown one
    grants nothing (``PermissionMap.ignored`` lists it). Validate on the write path (``validate_role`` etc.).
    """

    id: str
    kind: PrincipalKind
    display_name: str = ""
    roles: frozenset[RoleAssignment] = frozenset()
    scopes: frozenset[str] | None = None
    token_id: str | None = None
    partner_org: str | None = None
    region: str | None = None
    issuer_roles: frozenset[RoleAssignment] | None = None

    def __post_init__(self) -> None:
        for assignment in (*self.roles, *(self.issuer_roles or ())):
            if not (isinstance(assignment, tuple) and len(assignment) == 2):
                raise ValueError(f"a role assignment is a (role, region) pair, got {assignment!r}")
        is_partner = self.kind is PrincipalKind.PARTNER
        if is_partner:
            if self.roles:
                raise ValueError("a partner principal holds no roles; its token carries scopes")
            if self.scopes is None or self.region is None or self.token_id is None:
                raise ValueError("a partner principal needs scopes, region and token_id")
        elif self.scopes is not None or self.region is not None or self.issuer_roles is not None:
            raise ValueError(f"scopes, region and issuer_roles belong to partner tokens, not to {self.kind}")
        if self.kind is PrincipalKind.ANONYMOUS and self.roles:
            raise ValueError("an anonymous principal holds no roles")

    @property
    def is_authenticated(self) -> bool:
        return self.kind is not PrincipalKind.ANONYMOUS

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(id="anonymous", kind=PrincipalKind.ANONYMOUS, display_name="anonymous")

    @classmethod
    def staff(cls, id: str, display_name: str, roles: frozenset[RoleAssignment]) -> Principal:
        return cls(id=id, kind=PrincipalKind.STAFF, display_name=display_name, roles=roles)

    @classmethod
    def system(cls, id: str, display_name: str, roles: frozenset[RoleAssignment]) -> Principal:
        return cls(id=id, kind=PrincipalKind.SYSTEM, display_name=display_name, roles=roles)

    @classmethod
    def partner(
        cls,
        *,
        token_id: str,
        partner_org: str,
        scopes: frozenset[str],
        region: str,
        display_name: str = "",
        issuer_roles: frozenset[RoleAssignment] | None = None,
    ) -> Principal:
        """A partner token's principal; its ``id`` is ``token:<token_id>`` (what audit events record)."""
        return cls(
            id=f"token:{token_id}",
            kind=PrincipalKind.PARTNER,
            display_name=display_name or partner_org,
            scopes=scopes,
            token_id=token_id,
            partner_org=partner_org,
            region=region,
            issuer_roles=issuer_roles,
        )
