"""Tokens for integration tests: issue a real token straight into a test database, then send it as a bearer.

    from tests.integration.tokens import issue_partner_token, issue_staff_token

    async def test_something(db_url: str, gql: GraphQLClient) -> None:
        token = await issue_staff_token(db_url, "moderator", "US")
        body = await gql("{ viewer { id } }", token=token)

Both helpers write through the same persistence functions as `vigil token issue` (principal, role assignment,
hashed token, audit events), committed, and return the secret. Calling one twice with the same role and region
reuses the principal and adds a second token.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from api.services.identity import staff_name
from authz.scopes import resolve_scopes
from persistence.db import create_engine, create_session_factory
from persistence.metadata import metadata
from persistence.principals import SYSTEM_AUDIT, create_token, ensure_partner, ensure_staff
from persistence.uow import SqlUnitOfWork

DEFAULT_LIFETIME = timedelta(days=1)


async def issue_staff_token(
    db_url: str,
    role: str,
    region: str,
    *,
    name: str | None = None,
    expires_in: timedelta = DEFAULT_LIFETIME,
) -> str:
    """A bearer secret for staff member ``name`` (default ``<role>-<region>``, e.g. ``moderator-US``,
    ``admin-global`` for ``*``) holding ``role`` in ``region``. Several calls with one ``name`` and different
    roles build a principal with several role assignments."""
    principal = name or staff_name(role, region)
    now = datetime.now(UTC)
    engine = create_engine(db_url, pool_size=1)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            principal_id = await ensure_staff(uow, name=principal, display_name=principal, role=role, region=region)
            _, secret = await create_token(
                uow,
                principal_id=principal_id,
                name=f"{principal} (test)",
                scopes=None,
                region=None,
                issued_by=None,
                expires_at=now + expires_in,
                now=now,
            )
    finally:
        await engine.dispose()
    return secret


async def issue_partner_token(
    db_url: str,
    org: str,
    scopes: Iterable[str],
    region: str,
    *,
    expires_in: timedelta = DEFAULT_LIFETIME,
    issued_by: uuid.UUID | None = None,
) -> str:
    """A bearer secret for a partner token of ``org`` with ``scopes`` (permission names and/or presets such as
    ``trusted_flagger``) in ``region`` (or ``*``). Issued by the system unless ``issued_by`` names a principal,
    whose current roles then cap the token at every request. Non-delegable scopes are stored as given (and
    grant nothing), so tests can prove that."""
    permissions = sorted(p.value for p in resolve_scopes(scopes))
    now = datetime.now(UTC)
    engine = create_engine(db_url, pool_size=1)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), SYSTEM_AUDIT) as uow:
            partner_id = await ensure_partner(uow, org)
            _, secret = await create_token(
                uow,
                principal_id=partner_id,
                name=f"{org} {region} (test)",
                scopes=permissions,
                region=region,
                issued_by=issued_by,
                expires_at=now + expires_in,
                now=now,
            )
    finally:
        await engine.dispose()
    return secret


# Written by the app's background sealer on its own clock, not by the request under test: counting it would make
# every "nothing was written" assertion race the sealer.
BACKGROUND_TABLES = frozenset({"audit_seals"})


async def row_counts(db_url: str) -> dict[str, int]:
    """Rows per table (every table of the metadata but the sealer's): compare before/after to prove nothing was
    written by the request."""
    import persistence.tables  # noqa: F401  (registers every table on the metadata)

    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            counts: dict[str, int] = {}
            for table in metadata.sorted_tables:
                if table.name in BACKGROUND_TABLES:
                    continue
                counts[table.name] = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
            return counts
    finally:
        await engine.dispose()
