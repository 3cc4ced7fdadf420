"""Principals, role assignments and API tokens in the database: who a bearer token belongs to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from authz.principal import Principal, PrincipalKind, RoleAssignment
from persistence.tables.auth import api_tokens, principals, role_assignments


class TokenProblem(StrEnum):
    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class TokenRecord:
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
