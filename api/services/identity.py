"""The identity service: issuing and revoking API tokens, one set of rules for the command line and GraphQL.

- A token never exceeds its issuer: a partner token's scopes must be permissions the issuer holds in the token's
  region (``authz.scopes.check_token_scopes``), never token management (``NON_DELEGABLE``). The operator at the
  command line (``OPERATOR``) holds every permission; a GraphQL caller holds its permission map.
- Names (partner organisation, token, staff member) are 1 to ``MAX_NAME_LENGTH`` characters, a token lives at
  most ``MAX_LIFETIME``, carries 1 to ``MAX_SCOPES`` scopes, and its region is a region or ``*``.
- A staff token grants its holder a role (``issue_staff_token``): the issuer must hold every permission the role
  grants there (``_role_beyond``), and may name the vendor organisation the staff member works for; a
  ``vendor_moderator`` always works for one (named now or already stored).
- No privilege escalation (``authz.escalation``): a token for an *existing* principal carries everything that
  principal holds, so the issuer must hold all of it too (a staff member's every role assignment; an
  organisation's scopes and ``tokens:issue`` in every region where it already operates). Refused:
  ``FORBIDDEN`` (``EscalationRefused``), nothing written; GraphQL records the refusal in the audit trail. The
  operator is not capped, but a token for an existing staff member holding more than the role asked for needs
  ``existing=True`` (``vigil token issue --existing``): never a silent attach.
- Principal names are canonical (``authz.names``: NFKC, trimmed, nothing invisible), so ``"admin-global "`` *is*
  ``admin-global``; a name that merely looks like another principal's (case, confusable letters) is refused as
  ambiguous (``CONFLICT``), under a lock, so two look-alikes are never created at once.
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
from authz.escalation import lacking, partner_token_powers, staff_token_powers
from authz.names import canonical_name
from authz.permissions import NON_DELEGABLE, Permission
from authz.principal import Principal, PrincipalKind
from authz.roles import GLOBAL_REGION, Role, validate_region
from authz.scopes import check_token_scopes, resolve_scopes
from authz.tokens import parse_duration
from domain.errors import DomainError, ErrorCode
from persistence import documents
from persistence.db import SessionFactory
from persistence.principals import (
    MAX_NAME_LENGTH,
    SYSTEM_AUDIT,
    NamedPrincipal,
    TokenRecord,
    create_token,
    ensure_partner,
    ensure_staff,
    get_token,
    lock_principal_names,
    look_alike_names,
    organisation_regions,
    principal_named,
    revoke_token,
)
from persistence.uow import AuditContext, RecordKind, SqlUnitOfWork, Subject

MAX_SCOPES: Final = 64
MAX_LIFETIME: Final = timedelta(days=366)
DEFAULT_LIFETIME: Final = "30d"


def staff_name(role: str, region: str) -> str:
    """The default staff principal for a role and region: `moderator-US`, `admin-global`."""
    return f"{role}-{'global' if region == GLOBAL_REGION else region}"


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
    documents: Sequence[str] = ()
    """Names of trusted documents: the token may send those (every registered text of each name) and nothing
    else. Empty: any document or text the server accepts."""


@dataclass(frozen=True)
class StaffToken:
    """A token for the staff member ``name``, who holds ``role`` in ``region`` (granted if missing) and works for
    ``vendor_org`` (a moderation vendor; None: keep what is stored, in-house for a new one). ``existing``: the
    operator knowingly issues it for an existing staff member who holds more than ``role`` in ``region``."""

    role: str
    region: str
    name: str
    expires_in: str = DEFAULT_LIFETIME
    vendor_org: str | None = None
    via: str = "CLI"
    existing: bool = False


class EscalationRefused(DomainError):
    """A refusal the audit trail keeps (``audit_refusal``): a token or role beyond the issuer, or a look-alike
    name."""


_SHOWN: Final = 6
"""How many missing powers a refusal names (then "and N more")."""


def _text(value: str, field: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_NAME_LENGTH:
        raise DomainError.invalid_input(f"`{field}` must be 1 to {MAX_NAME_LENGTH} characters", field=field)
    return value


def _principal_name(value: str, field: str) -> str:
    """A staff member's or an organisation's name in its canonical form (``authz.names``)."""
    try:
        name = canonical_name(value)
    except ValueError as error:
        raise DomainError.invalid_input(f"`{field}`: {error}", field=field) from error
    if len(name) > MAX_NAME_LENGTH:
        raise DomainError.invalid_input(f"`{field}` must be 1 to {MAX_NAME_LENGTH} characters", field=field)
    return name


def _quoted(name: str) -> str:
    """A name as an error message may quote it: at most 40 characters of what the client sent."""
    return name if len(name) <= 40 else name[:39] + "…"


def _listed(missing: list[str]) -> str:
    more = len(missing) - _SHOWN
    return ", ".join(missing[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


async def _the_principal(uow: SqlUnitOfWork, name: str, field: str) -> NamedPrincipal | None:
    """The principal named exactly ``name`` (None: a new one), under the names lock; a name that only looks
    like a stored one is ambiguous and refused."""
    await lock_principal_names(uow.session)
    if await look_alike_names(uow.session, name):
        raise EscalationRefused(
            ErrorCode.CONFLICT,
            f"`{field}` looks like the name of another principal (case, spacing or look-alike letters): "
            "give that exact name, or a clearly different one",
            field,
        )
    return await principal_named(uow.session, name)


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
        raise EscalationRefused(
            ErrorCode.FORBIDDEN,
            f"a token cannot carry scopes you do not hold in {where}, nor token management: {', '.join(offending)}",
            "scopes",
        )
    return scopes


async def issue_partner_token(
    uow: SqlUnitOfWork, issuer: Issuer, request: PartnerToken, now: datetime
) -> tuple[TokenRecord, str]:
    """A partner token (the organisation is created on first use) and its secret, shown once. For an existing
    organisation, the issuer must hold the token's scopes and ``tokens:issue`` wherever the organisation
    operates."""
    org = _principal_name(request.partner_org, "partnerOrg")
    name = _text(request.name, "name")
    region = _region(request.region)
    lifetime = _lifetime(request.expires_in)
    scopes = _scopes(issuer, request.scopes, region)
    await _the_principal(uow, org, "partnerOrg")
    operates_in = await organisation_regions(uow.session, org, now)
    missing = lacking(issuer.permissions, partner_token_powers(map(Permission, scopes), region, operates_in))
    if missing:
        raise EscalationRefused(
            ErrorCode.FORBIDDEN,
            f"privilege escalation: organisation {_quoted(org)} already operates where you hold less; a token for it "
            f"needs {_listed(missing)}",
            "partnerOrg",
        )
    pinned = await _documents_named(uow, request.documents)
    try:
        partner_id = await ensure_partner(uow, org, now=now)
    except ValueError as error:
        raise DomainError.conflict(str(error), field="partnerOrg") from error
    record, secret = await create_token(
        uow,
        principal_id=partner_id,
        name=name,
        scopes=scopes,
        region=region,
        issued_by=issuer.principal_id,
        expires_at=now + lifetime,
        now=now,
    )
    if pinned:
        await documents.pin(uow.session, record.id, pinned)
        uow.record(
            PINNED_TOKEN,
            Subject(record.id, region if region != GLOBAL_REGION else None),
            action="token.pinned",
            after={"documents": sorted(pinned), "names": sorted(set(request.documents))},
            at=now,
        )
    return record, secret


PINNED_TOKEN = RecordKind("ApiToken")


async def _documents_named(uow: SqlUnitOfWork, names: Sequence[str]) -> list[str]:
    """The ids of every registered text of each name (refused, naming the first, when a name has none)."""
    wanted = sorted({n.strip() for n in names})
    if not wanted:
        return []
    if "" in wanted:
        raise DomainError.invalid_input("a document name is empty", field="documents")
    found = await documents.by_names(uow.session, wanted)
    missing = [n for n in wanted if n not in found]
    if missing:
        raise DomainError.invalid_input(
            f"no trusted document is named {_quoted(missing[0])}: register it first (vigil documents register)",
            field="documents",
        )
    return [doc_id for name in wanted for doc_id in found[name]]


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
    """A token for a staff member, granted ``role`` in ``region`` if they lack it, never beyond the issuer: for an
    existing staff member, the issuer must hold everything they hold (``authz.escalation``)."""
    region = _region(request.region)
    name = _principal_name(request.name, "name")
    vendor = _principal_name(request.vendor_org, "vendorOrg") if request.vendor_org is not None else None
    lifetime = _lifetime(request.expires_in)
    beyond = _role_beyond(issuer, request.role, region)
    if beyond:
        where = "every region" if region == GLOBAL_REGION else f"region {region}"
        raise EscalationRefused(
            ErrorCode.FORBIDDEN,
            f"role {request.role} grants what you do not hold in {where}: {', '.join(beyond)}",
            "role",
        )
    existing = await _the_principal(uow, name, "name")
    if existing is not None and existing.kind is not PrincipalKind.STAFF:
        raise DomainError.conflict(
            f"{_quoted(name)!r} is a {existing.kind.value.lower()} principal, not staff", field="name"
        )
    if request.role == Role.VENDOR_MODERATOR and vendor is None and (existing is None or not existing.partner_org):
        raise DomainError.invalid_input(
            "a vendor_moderator works for a moderation vendor: name it in `vendorOrg` (`--vendor`)", field="vendorOrg"
        )
    if existing is not None:
        _may_attach(issuer, existing, request)
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


def _may_attach(issuer: Issuer, existing: NamedPrincipal, request: StaffToken) -> None:
    """A token for ``existing`` carries all it holds: the issuer must hold it all (the operator: must say so)."""
    powers = staff_token_powers(existing.roles, request.role, request.region)
    if issuer.permissions is None:
        asked = get_authorizer().permission_map(
            Principal.staff("asked", "", frozenset({(request.role, request.region)}))
        )
        if not request.existing and lacking(asked, powers):
            held = ", ".join(f"{role} in {region}" for role, region in sorted(existing.roles))
            raise EscalationRefused(
                ErrorCode.FORBIDDEN,
                f"staff member {_quoted(existing.name)} exists and holds more than {request.role} in {request.region} "
                f"({held}); a token for them carries it all: pass --existing to issue it anyway",
                "name",
            )
        return
    missing = lacking(issuer.permissions, powers)
    if missing:
        raise EscalationRefused(
            ErrorCode.FORBIDDEN,
            f"privilege escalation: a token for staff member {_quoted(existing.name)} carries all they hold, and you "
            f"lack {_listed(missing)}",
            "name",
        )


REFUSED: Final = RecordKind("Mutation")
"""What a refused mutation's audit event is about (as ``api.graphql.permissions`` records refusals)."""


def refusal_context(audit: AuditContext, error: DomainError) -> AuditContext:
    """Who was refused, as ``security.forbidden`` / ``security.conflict``, with the refusal's message as the
    reason: the audit context of the unit of work that records it (``record_refusal``)."""
    action = f"security.{error.code.value.lower()}"
    return AuditContext(audit.actor_kind, audit.actor_id, action, audit.request_id, error.message)


def record_refusal(uow: SqlUnitOfWork, operation: str, error: DomainError) -> None:
    """Record, in ``uow`` (opened with ``refusal_context``), that ``operation`` was refused."""
    uow.record(REFUSED, Subject(operation), action=f"security.{error.code.value.lower()}")


async def audit_refusal(sessions: SessionFactory, audit: AuditContext, error: DomainError) -> None:
    """Record a refused issue in its own transaction (the refused one wrote nothing)."""
    async with SqlUnitOfWork(sessions, refusal_context(audit, error)) as uow:
        record_refusal(uow, audit.operation, error)


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
