"""The Authorizer: Casbin (model.conf + policy.csv) turned into one immutable ``PermissionMap`` per request.

How it stays correct *and* fast
-------------------------------
Casbin is the single source of truth: every "role R held in region D grants permission P in region X" fact
is an ``enforce()`` answer from the real model and policy files. But role assignments live in the database, so
the classic "add the user's ``g`` lines, then enforce" would mutate a shared enforcer per request (racy) or
build a fresh enforcer per request (milliseconds each). Instead:

1. At construction the enforcer gets one synthetic subject per possible role assignment,
   ``g, assignment:<role>@<region>, <role>, <region>`` (8 roles x 5 regions incl. ``*``). It is never mutated
   afterwards.
2. The first time a ``(role, region)`` assignment is seen, its grants are computed with ``enforce()`` over the
   permission catalogue (<= 32 x 5 calls, under a lock: ``FastEnforcer`` filters its policy in place while
   enforcing, so it must not run concurrently) and memoised. ``warm_up()`` does all 40 at startup (~0.5 s).
3. ``permission_map(principal)`` is then a union of memoised tables over the principal's assignments: no
   ``enforce()`` call on a warm process, and never one per list item. ``PermissionMap.enforce_calls`` and
   ``Authorizer.enforce_calls`` make that cost visible to tests.

``FastEnforcer`` indexes the rules by (obj, act) (``cache_key_order=[2, 3]``), which the model allows because
it compares object and action exactly; each ``enforce()`` then looks at the <= 8 rules for one permission.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from casbin import FastEnforcer

from authz.permissions import NON_DELEGABLE, PERMISSION_NAMES, Permission, parse_permission
from authz.principal import Principal, PrincipalKind, RoleAssignment
from authz.roles import (
    GLOBAL_REGION,
    KNOWN_REGIONS,
    KNOWN_ROLES,
    ROLE_SENIORITY,
    Role,
    validate_region,
    validate_role,
)

__all__ = [
    "ALL_REGIONS",
    "Authorizer",
    "PermissionDenied",
    "PermissionMap",
    "PolicyError",
    "RegionSet",
    "get_authorizer",
]

_PACKAGE_DIR: Final = Path(__file__).parent
DEFAULT_MODEL_PATH: Final = _PACKAGE_DIR / "model.conf"
DEFAULT_POLICY_PATH: Final = _PACKAGE_DIR / "policy.csv"

RegionSet = frozenset[str] | None
"""Where a permission holds: a set of regions, or ``ALL_REGIONS`` (None) for every region."""

ALL_REGIONS: Final[None] = None
"""The ``RegionSet`` of a permission held in ``*``: every region, present and future."""

_NOWHERE: Final[frozenset[str]] = frozenset()
_ASSIGNMENT_REGIONS: Final = (*sorted(KNOWN_REGIONS), GLOBAL_REGION)


class PolicyError(Exception):
    """model.conf / policy.csv do not agree with the catalogue (unknown role, permission or region)."""


class PermissionDenied(Exception):
    """Raised by ``PermissionMap.require``; the API turns it into a typed ``FORBIDDEN`` error."""

    def __init__(self, permission: Permission, region: str | None) -> None:
        where = f" in region {region}" if region is not None else ""
        super().__init__(f"missing permission {permission}{where}")
        self.permission = permission
        self.region = region


def _union(a: RegionSet, b: RegionSet) -> RegionSet:
    return ALL_REGIONS if a is None or b is None else a | b


def _intersection(a: RegionSet, b: RegionSet) -> RegionSet:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


@dataclass(frozen=True, slots=True)
class PermissionMap:
    """What one principal may do, where. Immutable; compute it once per request.

    ``grants`` holds only permissions held somewhere: each maps to its regions, or ``ALL_REGIONS`` (None).
    ``ignored`` explains role assignments or scopes that granted nothing because they are unknown (log it).
    """

    principal_id: str
    grants: Mapping[Permission, RegionSet] = field(default_factory=lambda: MappingProxyType({}))
    role_assignments: frozenset[tuple[Role, str]] = frozenset()
    enforce_calls: int = 0
    ignored: tuple[str, ...] = ()

    @property
    def permissions(self) -> frozenset[Permission]:
        """Every permission held in at least one region."""
        return frozenset(self.grants)

    def regions(self, permission: Permission | str) -> RegionSet:
        """Where ``permission`` holds: None = every region; an empty set = nowhere.

        Feed it to SQL as ``WHERE region = ANY(:regions)`` (no filter for None, no query for the empty set).
        """
        return self.grants.get(parse_permission(permission), _NOWHERE)

    def allows(self, permission: Permission | str, region: str | None = None) -> bool:
        """``region=None``: in at least one region; ``"*"``: in every region; else in that region.

        An unknown permission string raises ``ValueError`` (a typo must not read as a quiet denial); an
        unknown region is simply not allowed.
        """
        perm = parse_permission(permission)
        if perm not in self.grants:
            return False
        regions = self.grants[perm]
        if region is None:
            return True
        if region == GLOBAL_REGION:
            return regions is ALL_REGIONS
        if region not in KNOWN_REGIONS:
            return False
        return regions is ALL_REGIONS or region in regions

    def require(self, permission: Permission | str, region: str | None = None) -> None:
        """``allows`` or raise ``PermissionDenied``."""
        if not self.allows(permission, region):
            raise PermissionDenied(Permission(permission), region)

    def seniority(self, region: str) -> int:
        """Highest seniority among roles held in ``region`` (or in ``*``); 0 when none. Partners are 0."""
        return max(
            (ROLE_SENIORITY[role] for role, held_in in self.role_assignments if held_in in (region, GLOBAL_REGION)),
            default=0,
        )


class _CasbinPolicy:
    """Typed wrapper around one casbin ``FastEnforcer``; the only place that touches casbin.

    Not thread-safe (FastEnforcer filters its rules in place during ``enforce``): the Authorizer serialises.
    """

    def __init__(self, model_path: Path, policy_path: Path) -> None:
        self._enforcer: Any = FastEnforcer(str(model_path), str(policy_path), cache_key_order=[2, 3])
        self.calls = 0

    def rules(self) -> list[tuple[str, ...]]:
        return [tuple(str(v) for v in rule) for rule in self._enforcer.get_policy()]

    def grouping_rules(self) -> list[tuple[str, ...]]:
        return [tuple(str(v) for v in rule) for rule in self._enforcer.get_grouping_policy()]

    def add_grouping_rules(self, rules: Iterable[tuple[str, str, str]]) -> None:
        self._enforcer.add_grouping_policies([list(rule) for rule in rules])

    def enforce(self, subject: str, region: str, obj: str, act: str) -> bool:
        self.calls += 1
        return bool(self._enforcer.enforce(subject, region, obj, act))


def _assignment_subject(role: Role, region: str) -> str:
    return f"assignment:{role}@{region}"


def _check_policy(rules: list[tuple[str, ...]], grouping_rules: list[tuple[str, ...]]) -> None:
    problems: list[str] = []
    if grouping_rules:
        problems.append(f"policy.csv must not assign roles (g lines), found {len(grouping_rules)}")
    for rule in rules:
        if len(rule) != 4:
            problems.append(f"{rule}: expected p, role, region, kind, action")
            continue
        role, region, obj, act = rule
        if role not in KNOWN_ROLES:
            problems.append(f"{rule}: unknown role {role!r}")
        if region != GLOBAL_REGION and region not in KNOWN_REGIONS:
            problems.append(f"{rule}: unknown region {region!r}")
        if f"{obj}:{act}" not in PERMISSION_NAMES:
            problems.append(f"{rule}: unknown permission {obj}:{act}")
    if problems:
        raise PolicyError("invalid authorization policy:\n  " + "\n  ".join(problems))


class Authorizer:
    """Build once per process (``get_authorizer()``); share freely between requests and threads."""

    def __init__(self, model_path: Path | None = None, policy_path: Path | None = None) -> None:
        self.model_path = model_path or DEFAULT_MODEL_PATH
        self.policy_path = policy_path or DEFAULT_POLICY_PATH
        self._casbin = _CasbinPolicy(self.model_path, self.policy_path)
        _check_policy(self._casbin.rules(), self._casbin.grouping_rules())
        self._casbin.add_grouping_rules(
            (_assignment_subject(role, region), role.value, region) for role in Role for region in _ASSIGNMENT_REGIONS
        )
        self._lock = threading.Lock()
        self._tables: dict[tuple[Role, str], Mapping[Permission, RegionSet]] = {}

    def tables(self) -> dict[tuple[Role, str], Mapping[Permission, RegionSet]]:
        """The (role, region) tables built so far (all of them after ``warm_up``)."""
        with self._lock:
            return dict(self._tables)

    def adopt_tables(self, tables: Mapping[tuple[Role, str], Mapping[Permission, RegionSet]]) -> None:
        """Take tables an Authorizer over the same files built earlier (``authz.table_cache``); a table already
        built here stays."""
        with self._lock:
            for key, table in tables.items():
                self._tables.setdefault(key, MappingProxyType(dict(table)))

    @property
    def enforce_calls(self) -> int:
        """Total casbin ``enforce()`` calls made by this Authorizer since it was built."""
        return self._casbin.calls

    def warm_up(self) -> None:
        """Compute every (role, region) table now, so no request ever pays for one."""
        for role in Role:
            for region in _ASSIGNMENT_REGIONS:
                self._role_table(role, region)

    async def warm_up_gradually(self) -> None:
        """``warm_up`` one permission per event-loop turn, so a server warming up (~0.5 s of CPU) still answers
        requests at once: a whole table per turn (~12 ms) held each request's every await behind one."""
        for role in Role:
            for region in _ASSIGNMENT_REGIONS:
                if (role, region) in self._tables:
                    continue
                subject = _assignment_subject(role, region)
                grants: dict[Permission, RegionSet] = {}
                for perm in Permission:
                    self._grant(subject, perm, grants)
                    await asyncio.sleep(0)
                with self._lock:  # a request may have built this table meanwhile: the first one stays
                    self._tables.setdefault((role, region), MappingProxyType(grants))

    def role_grants(self, role: str, region: str) -> Mapping[Permission, RegionSet]:
        """What holding ``role`` in ``region`` grants (validated names; ``ValueError`` otherwise)."""
        return self._role_table(validate_role(role), validate_region(region))[0]

    def permission_map(self, principal: Principal) -> PermissionMap:
        """The principal's permissions per region. Call once per request, keep it on the request context."""
        if principal.kind is PrincipalKind.ANONYMOUS:
            return PermissionMap(principal_id=principal.id)
        if principal.kind is PrincipalKind.PARTNER:
            return self._partner_map(principal)
        grants, assignments, calls, ignored = self._combine(principal.roles)
        return PermissionMap(
            principal_id=principal.id,
            grants=MappingProxyType(grants),
            role_assignments=assignments,
            enforce_calls=calls,
            ignored=ignored,
        )

    def _partner_map(self, principal: Principal) -> PermissionMap:
        if principal.scopes is None or principal.region is None:  # excluded by Principal.__post_init__
            return PermissionMap(principal_id=principal.id, ignored=("token without scopes or region",))
        ignored: list[str] = []
        calls = 0
        try:
            token_regions: RegionSet = (
                ALL_REGIONS if validate_region(principal.region) == GLOBAL_REGION else frozenset({principal.region})
            )
        except ValueError as error:
            return PermissionMap(principal_id=principal.id, ignored=(f"token region: {error}",))
        issuer_grants: dict[Permission, RegionSet] | None = None
        if principal.issuer_roles is not None:
            issuer_grants, _, calls, issuer_ignored = self._combine(principal.issuer_roles)
            ignored.extend(f"issuer: {reason}" for reason in issuer_ignored)
        grants: dict[Permission, RegionSet] = {}
        for scope in sorted(principal.scopes):
            if scope not in PERMISSION_NAMES:
                ignored.append(f"unknown scope {scope!r}")
                continue
            perm = Permission(scope)
            if perm in NON_DELEGABLE:
                ignored.append(f"scope {scope!r} cannot be delegated to a token")
                continue
            regions = token_regions
            if issuer_grants is not None:
                regions = _intersection(regions, issuer_grants.get(perm, _NOWHERE))
            if regions is ALL_REGIONS or regions:
                grants[perm] = regions
        return PermissionMap(
            principal_id=principal.id,
            grants=MappingProxyType(grants),
            enforce_calls=calls,
            ignored=tuple(ignored),
        )

    def _combine(
        self, assignments: Iterable[RoleAssignment]
    ) -> tuple[dict[Permission, RegionSet], frozenset[tuple[Role, str]], int, tuple[str, ...]]:
        grants: dict[Permission, RegionSet] = {}
        valid: set[tuple[Role, str]] = set()
        ignored: list[str] = []
        calls = 0
        for role_name, region in sorted(assignments):
            try:
                role = validate_role(role_name)
                validate_region(region)
            except ValueError as error:
                ignored.append(f"role assignment ({role_name!r}, {region!r}): {error}")
                continue
            valid.add((role, region))
            table, cost = self._role_table(role, region)
            calls += cost
            for perm, regions in table.items():
                grants[perm] = _union(grants[perm], regions) if perm in grants else regions
        return grants, frozenset(valid), calls, tuple(ignored)

    def _role_table(self, role: Role, region: str) -> tuple[Mapping[Permission, RegionSet], int]:
        """Grants of one role assignment and the enforce() calls it cost now (0 once memoised)."""
        key = (role, region)
        table = self._tables.get(key)
        if table is not None:
            return table, 0
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                return table, 0
            before = self._casbin.calls
            subject = _assignment_subject(role, region)
            grants: dict[Permission, RegionSet] = {}
            for perm in Permission:
                self._grant(subject, perm, grants)
            table = MappingProxyType(grants)
            self._tables[key] = table
            return table, self._casbin.calls - before

    def _grant(self, subject: str, perm: Permission, grants: dict[Permission, RegionSet]) -> None:
        """Add to ``grants`` where the assignment ``subject`` holds ``perm``, asked of Casbin (nowhere: no entry)."""
        if self._casbin.enforce(subject, GLOBAL_REGION, perm.kind, perm.action):
            grants[perm] = ALL_REGIONS  # the model: a "*" request matches only "*" roles and rules
            return
        held = frozenset(r for r in sorted(KNOWN_REGIONS) if self._casbin.enforce(subject, r, perm.kind, perm.action))
        if held:
            grants[perm] = held


@functools.cache
def get_authorizer() -> Authorizer:
    """The process-wide Authorizer over the packaged model.conf and policy.csv (built on first use)."""
    return Authorizer()
