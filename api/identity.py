"""The identity service: issuing and revoking API tokens, one set of rules for the command line and GraphQL.

- A token never exceeds its issuer: a partner token's scopes must be permissions the issuer holds in the token's
  region (``authz.scopes.check_token_scopes``), never token management (``NON_DELEGABLE``). The operator at the
  command line (``OPERATOR``) holds every permission; a GraphQL caller holds its permission map.
- Names (partner organisation, token, staff member) are 1 to ``MAX_NAME_LENGTH`` characters, a token lives at
  most ``MAX_LIFETIME``, carries 1 to ``MAX_SCOPES`` scopes, and its region is a region or ``*``.
- A staff token grants its holder a role (``issue_staff_token``): the issuer must hold every permission the role
  grants there (``_role_beyond``), and may name the vendor organisation the staff member works for.
- A token is revoked by its issuer, or by whoever holds ``tokens:revoke`` in its region (staff tokens: in every
  region); to anyone else it does not exist (NOT_FOUND).
- Every write goes through the caller's unit of work, which audits it (``persistence.principals``).

Bad input is a typed ``DomainError`` (the field names are GraphQL's; the CLI prints the message).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from authz.enforcer import PermissionMap, get_authorizer
from authz.permissions import NON_DELEGABLE, Permission
from authz.roles import GLOBAL_REGION, validate_region
from authz.scopes import check_token_scopes, resolve_scopes
from authz.tokens import parse_duration
from domain.errors import DomainError
from persistence.principals import (
    MAX_NAME_LENGTH,
    SYSTEM_AUDIT,
    TokenRecord,
    create_token,
    ensure_partner,
    ensure_staff,
    get_token,
    revoke_token,
)
from persistence.uow import AuditContext, SqlUnitOfWork

MAX_SCOPES: Final = 64
MAX_LIFETIME: Final = timedelta(days=366)
DEFAULT_LIFETIME: Final = "30d"


@dataclass(frozen=True)
class Issuer:
    """Who issues or revokes: as audited, with the permissions that cap it (None: the operator, uncapped) and
    its staff principal's id (recorded as the token's ``issued_by``)."""

    audit: AuditContext
    permissions: PermissionMap | None = None
    principal_id: uuid.UUID | None = None


OPERATOR: Final = Issuer(SYSTEM_AUDIT)
"""The command line: the operator of the installation."""


@dataclass(frozen=True)
class PartnerToken:
    partner_org: str
    scopes: Sequence[str]
    region: str
    name: str
    expires_in: str = DEFAULT_LIFETIME


@dataclass(frozen=True)
class StaffToken:
    """A token for the staff member ``name``, who holds ``role`` in ``region`` (granted if missing) and works for
    ``vendor_org`` (a moderation vendor; None: keep what is stored, in-house for a new one)."""

    role: str
    region: str
    name: str
    expires_in: str = DEFAULT_LIFETIME
    vendor_org: str | None = None
    via: str = "CLI"


def _text(value: str, field: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_NAME_LENGTH:
        raise DomainError.invalid_input(f"`{field}` must be 1 to {MAX_NAME_LENGTH} characters", field=field)
    return value


def _region(region: str) -> str:
    try:
        return validate_region(region)
    except ValueError as error:
        raise DomainError.invalid_input(str(error), field="region") from error


def _lifetime(expires_in: str) -> timedelta:
    try:
        lifetime = parse_duration(expires_in)
    except ValueError as error:
        raise DomainError.invalid_input(str(error), field="expiresIn") from error
    if lifetime > MAX_LIFETIME:
        raise DomainError.invalid_input(f"a token lives at most {MAX_LIFETIME.days} days", field="expiresIn")
    return lifetime


def _scopes(issuer: Issuer, values: Sequence[str], region: str) -> list[str]:
    if not values or len(values) > MAX_SCOPES:
        raise DomainError.invalid_input(f"give 1 to {MAX_SCOPES} scopes", field="scopes")
    try:
        scopes = sorted(p.value for p in resolve_scopes(values))
    except ValueError as error:
        raise DomainError.invalid_input(str(error), field="scopes") from error
    if issuer.permissions is None:
        offending = sorted(s for s in scopes if Permission(s) in NON_DELEGABLE)
    else:
        offending = check_token_scopes(issuer.permissions, scopes, region)
    if offending:
        where = "every region" if region == GLOBAL_REGION else f"region {region}"
        raise DomainError.forbidden(
            f"a token cannot carry scopes you do not hold in {where}, nor token management: {', '.join(offending)}",
            field="scopes",
        )
    return scopes


async def issue_partner_token(
    uow: SqlUnitOfWork, issuer: Issuer, request: PartnerToken, now: datetime
) -> tuple[TokenRecord, str]:
    """A partner token (the organisation is created on first use) and its secret, shown once."""
    org = _text(request.partner_org, "partnerOrg")
    name = _text(request.name, "name")
    region = _region(request.region)
    lifetime = _lifetime(request.expires_in)
    scopes = _scopes(issuer, request.scopes, region)
    try:
        partner_id = await ensure_partner(uow, org, now=now)
    except ValueError as error:
        raise DomainError.conflict(str(error), field="partnerOrg") from error
    return await create_token(
        uow,
        principal_id=partner_id,
        name=name,
        scopes=scopes,
        region=region,
        issued_by=issuer.principal_id,
        expires_at=now + lifetime,
        now=now,
    )


def _role_beyond(issuer: Issuer, role: str, region: str) -> list[str]:
    """The permissions ``role`` grants in ``region`` that the issuer does not hold there (none: it may grant it)."""
    try:
        grants = get_authorizer().role_grants(role, region)
    except ValueError as error:
        raise DomainError.invalid_input(str(error), field="role") from error
    if issuer.permissions is None:
        return []
    return sorted(p.value for p in grants if not issuer.permissions.allows(p, region))


async def issue_staff_token(
    uow: SqlUnitOfWork, issuer: Issuer, request: StaffToken, now: datetime
) -> tuple[TokenRecord, str]:
    """A token for a staff member, granted ``role`` in ``region`` if they lack it, never beyond the issuer."""
    region = _region(request.region)
    name = _text(request.name, "name")
    vendor = _text(request.vendor_org, "vendorOrg") if request.vendor_org is not None else None
    lifetime = _lifetime(request.expires_in)
    beyond = _role_beyond(issuer, request.role, region)
    if beyond:
        where = "every region" if region == GLOBAL_REGION else f"region {region}"
        raise DomainError.forbidden(
            f"role {request.role} grants what you do not hold in {where}: {', '.join(beyond)}", field="role"
        )
    try:
        principal_id = await ensure_staff(
            uow, name=name, display_name=name, role=request.role, region=region, vendor_org=vendor, now=now
        )
    except ValueError as error:
        raise DomainError.conflict(str(error), field="name") from error
    return await create_token(
        uow,
        principal_id=principal_id,
        name=f"{name} ({request.via})",
        scopes=None,
        region=None,
        issued_by=issuer.principal_id,
        expires_at=now + lifetime,
        now=now,
    )


def may_manage(issuer: Issuer, permission: Permission, record: TokenRecord) -> bool:
    """Whether ``issuer`` may see or revoke ``record`` with ``permission``."""
    if issuer.permissions is None:
        return True
    if issuer.principal_id is not None and record.issued_by == issuer.principal_id:
        return True
    return issuer.permissions.allows(permission, record.region or GLOBAL_REGION)


async def revoke(uow: SqlUnitOfWork, issuer: Issuer, token_id: uuid.UUID, now: datetime) -> TokenRecord:
    """Revoke a token from ``now`` on (a revoked token is returned unchanged)."""
    current = await get_token(uow.session, token_id)
    if current is None or not may_manage(issuer, Permission.TOKENS_REVOKE, current):
        raise DomainError.not_found("no such token", field="id")
    revoked = await revoke_token(uow, token_id, now)
    if revoked is None:  # tokens are never deleted
        raise DomainError.not_found("no such token", field="id")
    return revoked
