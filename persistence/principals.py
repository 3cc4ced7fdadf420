"""Principals, role assignments and API tokens in the database: who a bearer token belongs to."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from authz.names import canonical_name, look_alike
from authz.principal import Principal, PrincipalKind, RoleAssignment
from authz.roles import KNOWN_REGIONS, validate_region, validate_role
from authz.tokens import hash_token, new_token_secret, token_prefix
from persistence.pagination import Page, keyset, to_page
from persistence.tables.auth import api_tokens, principals, role_assignments
from persistence.tables.outbox import webhook_endpoints
from persistence.uow import AuditContext, RecordKind, SqlUnitOfWork, Subject

MAX_NAME_LENGTH: Final = 200


class TokenProblem(StrEnum):
    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"


class TokenStatus(StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


@dataclass(frozen=True)
class TokenRecord:
    """A stored token as anyone may see it: never its secret, never its hash."""

    id: uuid.UUID
    principal_id: uuid.UUID
    name: str
    prefix: str
    scopes: tuple[str, ...] | None
    region: str | None
    issued_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    principal_name: str = ""
    principal_kind: str = ""
    partner_org: str | None = None

    def status(self, now: datetime) -> TokenStatus:
        if self.revoked_at is not None:
            return TokenStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return TokenStatus.EXPIRED
        return TokenStatus.ACTIVE


async def roles_of(session: AsyncSession, principal_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[RoleAssignment]]:
    rows = await session.execute(
        sa.select(role_assignments.c.principal_id, role_assignments.c.role, role_assignments.c.region).where(
            role_assignments.c.principal_id.in_(principal_ids)
        )
    )
    result: dict[uuid.UUID, set[RoleAssignment]] = {pid: set() for pid in principal_ids}
    for pid, role, region in rows:
        result[pid].add((role, region))
    return result


async def principal_for_token(session: AsyncSession, token_hash: str, now: datetime) -> Principal | TokenProblem:
    """Resolve a hashed bearer token in two statements: the token with its principal, then the roles."""
    row = (
        await session.execute(
            sa.select(api_tokens, principals.c.kind, principals.c.display_name, principals.c.partner_org)
            .join(principals, principals.c.id == api_tokens.c.principal_id)
            .where(api_tokens.c.token_hash == token_hash)
        )
    ).one_or_none()
    if row is None:
        return TokenProblem.INVALID
    if row.revoked_at is not None:
        return TokenProblem.REVOKED
    if row.expires_at is not None and row.expires_at <= now:
        return TokenProblem.EXPIRED
    wanted = [row.principal_id] + ([row.issued_by] if row.issued_by else [])
    roles = await roles_of(session, wanted)
    if row.kind == PrincipalKind.PARTNER:
        issuer = frozenset(roles.get(row.issued_by, set())) if row.issued_by else None
        return Principal.partner(
            token_id=str(row.id),
            partner_org=row.partner_org or row.display_name,
            scopes=frozenset(row.scopes or ()),
            region=row.region or "*",
            display_name=row.display_name,
            issuer_roles=issuer,
        )
    return Principal(
        id=str(row.principal_id),
        kind=PrincipalKind(row.kind),
        display_name=row.display_name,
        roles=frozenset(roles[row.principal_id]),
        token_id=str(row.id),
    )


async def staff_principal(session: AsyncSession, name: str) -> Principal | None:
    """The staff principal named ``name`` with its role assignments (two statements), or None.

    How a verified OIDC JWT becomes a principal: its subject claim is the name, compared exactly (no trimming,
    case folding or Unicode normalisation: an identity provider's ``Admin-Global`` or ``admin-global `` is not the
    staff member ``admin-global``); roles come from the database, never from the token. A login never creates or
    changes a principal.
    """
    row = (
        await session.execute(
            sa.select(principals.c.id, principals.c.display_name).where(
                principals.c.name == name, principals.c.kind == PrincipalKind.STAFF.value
            )
        )
    ).one_or_none()
    if row is None:
        return None
    roles = await roles_of(session, [row.id])
    return Principal.staff(id=str(row.id), display_name=row.display_name, roles=frozenset(roles[row.id]))


# -- writes: staff, partners, tokens, through a unit of work that audits each one (``SqlUnitOfWork.record``). ---

SYSTEM_AUDIT: Final = AuditContext(actor_kind=PrincipalKind.SYSTEM.value, actor_id="system:cli", operation="cli")
"""Who the command line and the demo seed act as."""

PRINCIPAL: Final = RecordKind("Principal")
API_TOKEN: Final = RecordKind("ApiToken")

_TOKEN_COLUMNS: Final = (
    api_tokens.c.id,
    api_tokens.c.principal_id,
    api_tokens.c.name,
    api_tokens.c.prefix,
    api_tokens.c.scopes,
    api_tokens.c.region,
    api_tokens.c.issued_by,
    api_tokens.c.created_at,
    api_tokens.c.expires_at,
    api_tokens.c.revoked_at,
    principals.c.name.label("principal_name"),
    principals.c.kind.label("principal_kind"),
    principals.c.partner_org,
)


def _record(row: Any) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        principal_id=row.principal_id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(row.scopes) if row.scopes is not None else None,
        region=row.region,
        issued_by=row.issued_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        principal_name=row.principal_name,
        principal_kind=row.principal_kind,
        partner_org=row.partner_org,
    )


def _subject(subject_id: uuid.UUID, region: str | None) -> Subject:
    """Audit events carry a data region; a global role or token ('*') belongs to none in particular."""
    return Subject(subject_id, region if region in KNOWN_REGIONS else None)


async def _find_or_create_principal(
    session: AsyncSession, *, name: str, kind: PrincipalKind, display_name: str, partner_org: str | None, now: datetime
) -> tuple[uuid.UUID, bool, str | None]:
    """The principal named ``name``, whether this call created it, and its stored ``partner_org``; safe against a
    concurrent creator.

    ``ValueError`` when the name belongs to a principal of another kind.
    """
    inserted = await session.execute(
        pg_insert(principals)
        .values(
            id=uuid.uuid4(),
            kind=kind.value,
            name=name,
            display_name=display_name,
            partner_org=partner_org,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(principals.c.id)
    )
    created_id = inserted.scalar_one_or_none()
    if created_id is not None:
        return created_id, True, partner_org
    existing = (
        await session.execute(
            sa.select(principals.c.id, principals.c.kind, principals.c.partner_org).where(principals.c.name == name)
        )
    ).one()
    if existing.kind != kind.value:
        raise ValueError(f"principal {name!r} exists and is not a {kind.value.lower()} principal ({existing.kind})")
    return existing.id, False, existing.partner_org


@dataclass(frozen=True)
class StaffEnsured:
    principal_id: uuid.UUID
    created: bool
    role_added: bool


async def ensure_staff_detailed(
    uow: SqlUnitOfWork,
    *,
    name: str,
    display_name: str,
    role: str,
    region: str,
    vendor_org: str | None = None,
    now: datetime | None = None,
) -> StaffEnsured:
    """``ensure_staff`` telling also what it had to create."""
    role = validate_role(role).value
    region = validate_region(region)
    name = _name(name, "a staff member")
    vendor_org = _name(vendor_org, "a vendor organisation") if vendor_org is not None else None
    now = now or datetime.now(UTC)
    session = uow.session
    principal_id, created, stored_vendor = await _find_or_create_principal(
        session, name=name, kind=PrincipalKind.STAFF, display_name=display_name, partner_org=vendor_org, now=now
    )
    if created:
        after = {"kind": PrincipalKind.STAFF.value, "name": name, "display_name": display_name}
        if vendor_org is not None:
            after["partner_org"] = vendor_org
        uow.record(PRINCIPAL, _subject(principal_id, None), action="principal.created", after=after, at=now)
    elif vendor_org is not None and vendor_org != stored_vendor:
        await session.execute(
            sa.update(principals).where(principals.c.id == principal_id).values(partner_org=vendor_org)
        )
        uow.record(
            PRINCIPAL,
            _subject(principal_id, None),
            action="principal.vendor_set",
            before={"partner_org": stored_vendor},
            after={"partner_org": vendor_org},
            at=now,
        )
    added = await session.execute(
        pg_insert(role_assignments)
        .values(id=uuid.uuid4(), principal_id=principal_id, role=role, region=region, created_at=now)
        .on_conflict_do_nothing(index_elements=["principal_id", "role", "region"])
        .returning(role_assignments.c.id)
    )
    role_added = added.one_or_none() is not None
    if role_added:
        after = {"role": role, "region": region}
        uow.record(PRINCIPAL, _subject(principal_id, region), action="principal.role_granted", after=after, at=now)
    return StaffEnsured(principal_id=principal_id, created=created, role_added=role_added)


async def ensure_staff(
    uow: SqlUnitOfWork,
    *,
    name: str,
    display_name: str,
    role: str,
    region: str,
    vendor_org: str | None = None,
    now: datetime | None = None,
) -> uuid.UUID:
    """The staff principal named ``name`` (created if missing) holding ``role`` in ``region`` (added if missing).
    ``vendor_org``: the moderation vendor they work for (stored as ``partner_org``; None keeps what is stored):
    their decisions count under it in the QA-per-vendor metric.

    ``ValueError`` for an unknown role or region, or when ``name`` belongs to a principal that is not staff.
    """
    ensured = await ensure_staff_detailed(
        uow, name=name, display_name=display_name, role=role, region=region, vendor_org=vendor_org, now=now
    )
    return ensured.principal_id


def _name(value: str, what: str) -> str:
    """The canonical name (``authz.names.canonical_name``: NFKC, trimmed, nothing invisible), 1 to
    ``MAX_NAME_LENGTH`` characters."""
    try:
        name = canonical_name(value)
    except ValueError as error:
        raise ValueError(f"{what} needs a name of 1 to {MAX_NAME_LENGTH} visible characters: {error}") from None
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"{what} needs a name of 1 to {MAX_NAME_LENGTH} characters")
    return name


# -- looking a name up before attaching to it (``api.services.identity``) ---------------------------------------------

_NAMES_LOCK: Final = 0x5649_474C_4E41_4D45  # "VIGLNAME": serialises creating principals by name
"""A transaction-level advisory lock key: the look-alike check and the creation it allows happen as one."""


@dataclass(frozen=True)
class NamedPrincipal:
    """A principal found by its exact name, with its role assignments."""

    id: uuid.UUID
    name: str
    kind: PrincipalKind
    partner_org: str | None
    roles: frozenset[RoleAssignment]


async def lock_principal_names(session: AsyncSession) -> None:
    """Hold, until the transaction ends, the lock every creation of a principal by name through the identity
    service takes: two look-alike names created at once cannot both pass the look-alike check."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_NAMES_LOCK)))


async def principal_named(session: AsyncSession, name: str) -> NamedPrincipal | None:
    """The principal whose stored name is exactly ``name`` (two statements), or None."""
    row = (
        await session.execute(
            sa.select(principals.c.id, principals.c.name, principals.c.kind, principals.c.partner_org).where(
                principals.c.name == name
            )
        )
    ).one_or_none()
    if row is None:
        return None
    roles = await roles_of(session, [row.id])
    return NamedPrincipal(row.id, row.name, PrincipalKind(row.kind), row.partner_org, frozenset(roles[row.id]))


async def look_alike_names(session: AsyncSession, name: str) -> list[str]:
    """Stored principal names other than ``name`` that look like it (``authz.names.look_alike``). One statement
    over the names alone: principals are people and organisations, thousands at most."""
    rows = await session.execute(sa.select(principals.c.name).where(principals.c.name != name))
    return sorted(stored for (stored,) in rows if look_alike(name, stored))


async def organisation_regions(session: AsyncSession, org: str, now: datetime) -> frozenset[str]:
    """Where organisation ``org`` already operates: the regions of its live partner tokens, of the role
    assignments of its staff (vendor moderators) and of the webhooks it owns (``*`` among them: everywhere).
    Empty for an organisation that does not exist yet."""
    members = sa.select(principals.c.id).where(principals.c.partner_org == org).scalar_subquery()
    tokens = sa.select(api_tokens.c.region).where(
        api_tokens.c.principal_id.in_(members),
        api_tokens.c.region.is_not(None),
        api_tokens.c.revoked_at.is_(None),
        sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
    )
    staff = sa.select(role_assignments.c.region).where(role_assignments.c.principal_id.in_(members))
    hooks = sa.select(sa.func.unnest(webhook_endpoints.c.regions)).where(
        webhook_endpoints.c.owner_id == f"partner:{org}"
    )
    rows = await session.execute(sa.union(tokens, staff, hooks))
    return frozenset(region for (region,) in rows if region is not None)


async def ensure_partner(uow: SqlUnitOfWork, org: str, *, now: datetime | None = None) -> uuid.UUID:
    """The partner principal of organisation ``org`` (its ``name``), created if missing.

    ``ValueError`` when ``org`` is blank or the name belongs to a principal that is not a partner.
    """
    org = _name(org, "a partner organisation")
    now = now or datetime.now(UTC)
    principal_id, created, _ = await _find_or_create_principal(
        uow.session, name=org, kind=PrincipalKind.PARTNER, display_name=org, partner_org=org, now=now
    )
    if created:
        after = {"kind": PrincipalKind.PARTNER.value, "name": org, "partner_org": org}
        uow.record(PRINCIPAL, _subject(principal_id, None), action="principal.created", after=after, at=now)
    return principal_id


def _token_facts(record: TokenRecord) -> dict[str, Any]:
    """What an audit event may say about a token: never its secret or hash."""
    return {
        "name": record.name,
        "prefix": record.prefix,
        "principal_id": str(record.principal_id),
        "scopes": list(record.scopes) if record.scopes is not None else None,
        "region": record.region,
        "issued_by": str(record.issued_by) if record.issued_by else None,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
    }


async def get_token(session: AsyncSession, token_id: uuid.UUID) -> TokenRecord | None:
    row = (
        await session.execute(
            sa.select(*_TOKEN_COLUMNS)
            .join(principals, principals.c.id == api_tokens.c.principal_id)
            .where(api_tokens.c.id == token_id)
        )
    ).one_or_none()
    return _record(row) if row is not None else None


async def create_token(
    uow: SqlUnitOfWork,
    *,
    principal_id: uuid.UUID,
    name: str,
    scopes: Iterable[str] | None,
    region: str | None,
    issued_by: uuid.UUID | None,
    expires_at: datetime | None,
    now: datetime,
) -> tuple[TokenRecord, str]:
    """Store a new token for ``principal_id``; returns it and its secret (shown once, stored only hashed).

    A staff token has no scopes and no region (it carries its principal's roles); a partner token has both.
    Scopes are stored as given: the identity service checks them beforehand (``api.services.identity``).
    """
    if expires_at is not None and expires_at <= now:
        raise ValueError("a token must expire in the future")
    if region is not None:
        validate_region(region)
    secret = new_token_secret()
    token_id = uuid.uuid4()
    stored_scopes = sorted(set(scopes)) if scopes is not None else None
    await uow.session.execute(
        sa.insert(api_tokens).values(
            id=token_id,
            principal_id=principal_id,
            name=name,
            token_hash=hash_token(secret),
            prefix=token_prefix(secret),
            scopes=stored_scopes,
            region=region,
            issued_by=issued_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    record = await get_token(uow.session, token_id)
    if record is None:  # the insert above is in this transaction
        raise AssertionError("token vanished within its own transaction")
    uow.record(API_TOKEN, _subject(token_id, region), action="token.issued", after=_token_facts(record), at=now)
    return record, secret


async def revoke_token(uow: SqlUnitOfWork, token_id: uuid.UUID, now: datetime) -> TokenRecord | None:
    """Revoke a token from ``now`` on. None if there is no such token; a revoked token is returned unchanged
    (revoking twice is harmless and records nothing new)."""
    current = await get_token(uow.session, token_id)
    if current is None or current.revoked_at is not None:
        return current
    await uow.session.execute(
        sa.update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    uow.record(
        API_TOKEN,
        _subject(token_id, current.region),
        action="token.revoked",
        before={"revoked_at": None},
        after={"revoked_at": now},
        at=now,
    )
    return replace(current, revoked_at=now)


async def list_tokens(
    session: AsyncSession,
    *,
    principal_id: uuid.UUID | None = None,
    first: int,
    after: str | None,
    regions: frozenset[str] | None = None,
    viewer_id: uuid.UUID | None = None,
) -> Page[TokenRecord]:
    """Tokens, newest first, one statement per page (keyset on ``created_at, id``).

    ``principal_id``: only that principal's tokens. ``regions`` (None: every token): only partner tokens of
    those regions, plus the tokens ``viewer_id`` holds or issued. Staff tokens and ``*`` tokens belong to no
    one region, so a reader limited to regions sees only their own.
    """
    stmt = sa.select(*_TOKEN_COLUMNS).join(principals, principals.c.id == api_tokens.c.principal_id)
    if principal_id is not None:
        stmt = stmt.where(api_tokens.c.principal_id == principal_id)
    if regions is not None:
        visible: list[sa.ColumnElement[bool]] = [api_tokens.c.region.in_(sorted(regions))]
        if viewer_id is not None:
            visible += [api_tokens.c.principal_id == viewer_id, api_tokens.c.issued_by == viewer_id]
        stmt = stmt.where(sa.or_(*visible))
    stmt = keyset(stmt, api_tokens.c.created_at, api_tokens.c.id, first=first, after=after)
    rows = [_record(row) for row in (await session.execute(stmt)).all()]
    return to_page(rows, first=first, after=after, sort_attr="created_at")
