"""The identity service: one set of token rules for the command line (the operator) and GraphQL (a caller capped
by its permission map); every write audited by the unit of work it runs in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from api.services import identity
from api.services.identity import Issuer, PartnerToken, StaffToken
from authz.enforcer import Authorizer
from authz.principal import Principal
from domain.errors import DomainError, ErrorCode
from persistence.db import create_engine, create_session_factory
from persistence.tables.audit import audit_events
from persistence.uow import AuditContext, SqlUnitOfWork
from tests.integration.tokens import row_counts


async def _attempt(db_url: str, issuer: Issuer, request: PartnerToken | StaffToken) -> DomainError | None:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with SqlUnitOfWork(create_session_factory(engine), issuer.audit) as uow:
            now = datetime.now(UTC)
            if isinstance(request, PartnerToken):
                await identity.issue_partner_token(uow, issuer, request, now)
            else:
                await identity.issue_staff_token(uow, issuer, request, now)
    except DomainError as error:
        return error
    finally:
        await engine.dispose()
    return None


def _moderator_us() -> Issuer:
    principal = Principal.staff("00000000-0000-0000-0000-000000000001", "mod", frozenset({("moderator", "US")}))
    audit = AuditContext(principal.kind.value, principal.id, "issueApiToken")
    return Issuer(audit, Authorizer().permission_map(principal))


@pytest.mark.parametrize(
    ("request_", "field", "code"),
    [
        (PartnerToken("acme", ["trusted_flagger"], "US", "t", "400d"), "expiresIn", ErrorCode.INVALID_INPUT),
        (PartnerToken("acme", ["tokens:issue"], "US", "t"), "scopes", ErrorCode.FORBIDDEN),
        (PartnerToken("acme", [], "US", "t"), "scopes", ErrorCode.INVALID_INPUT),
        (PartnerToken(" ", ["trusted_flagger"], "US", "t"), "partnerOrg", ErrorCode.INVALID_INPUT),
        (PartnerToken("acme", ["trusted_flagger"], "MARS", "t"), "region", ErrorCode.INVALID_INPUT),
        (StaffToken("overlord", "US", "someone"), "role", ErrorCode.INVALID_INPUT),
    ],
)
async def test_the_operator_meets_the_same_rules(
    db_url: str, request_: PartnerToken | StaffToken, field: str, code: ErrorCode
) -> None:
    before = await row_counts(db_url)

    refused = await _attempt(db_url, identity.OPERATOR, request_)

    assert refused is not None
    assert (refused.code, refused.field) == (code, field)
    assert await row_counts(db_url) == before


async def test_a_caller_is_capped_by_its_permissions(db_url: str) -> None:
    before = await row_counts(db_url)
    eu = await _attempt(db_url, _moderator_us(), PartnerToken("acme", ["cases:read"], "EU", "t"))
    senior = await _attempt(db_url, _moderator_us(), StaffToken("senior_moderator", "US", "someone"))
    elsewhere = await _attempt(db_url, _moderator_us(), StaffToken("vendor_moderator", "*", "someone"))

    for refused, field in ((eu, "scopes"), (senior, "role"), (elsewhere, "role")):
        assert refused is not None
        assert (refused.code, refused.field) == (ErrorCode.FORBIDDEN, field)
    assert await row_counts(db_url) == before
    assert await _attempt(db_url, _moderator_us(), PartnerToken("acme", ["cases:read"], "US", "t")) is None


async def test_each_write_is_audited_by_the_unit_of_work(db_url: str) -> None:
    assert await _attempt(db_url, identity.OPERATOR, StaffToken("moderator", "US", "audited-mod")) is None
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(audit_events.c.action, audit_events.c.actor_id, audit_events.c.region).order_by(
                        audit_events.c.seq
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows[-3:]] == [
        ("principal.created", "system:cli", None),
        ("principal.role_granted", "system:cli", "US"),
        ("token.issued", "system:cli", None),
    ]
