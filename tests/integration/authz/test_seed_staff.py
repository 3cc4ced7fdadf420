"""Demo staff: every role in US and EU, a global admin and auditor, one trusted-flagger partner; idempotent."""

from __future__ import annotations

import sqlalchemy as sa

from api.services.seed_staff import seed_staff
from authz.roles import Role
from persistence.db import create_engine, create_session_factory
from persistence.principals import SYSTEM_AUDIT
from persistence.tables.auth import principals, role_assignments
from persistence.uow import SqlUnitOfWork
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_staff_token, row_counts


async def test_seed_staff_is_idempotent_and_matches_cli_names(db_url: str, gql: GraphQLClient) -> None:
    engine = create_engine(db_url, pool_size=1)
    sessions = create_session_factory(engine)
    async with SqlUnitOfWork(sessions, SYSTEM_AUDIT) as uow:
        first = await seed_staff(uow)
    async with SqlUnitOfWork(sessions, SYSTEM_AUDIT) as uow:
        second = await seed_staff(uow)
    async with engine.connect() as conn:
        held = set(
            (
                await conn.execute(
                    sa.select(principals.c.name, role_assignments.c.role, role_assignments.c.region).join(
                        role_assignments, role_assignments.c.principal_id == principals.c.id
                    )
                )
            ).all()
        )
        partner = (
            await conn.execute(sa.select(principals.c.kind).where(principals.c.name == "trusted-flagger-eu"))
        ).scalar_one()
        vendors: dict[str, str | None] = dict(
            (
                await conn.execute(
                    sa.select(principals.c.name, principals.c.partner_org).where(principals.c.kind == "STAFF")
                )
            ).all()
        )
    await engine.dispose()

    expected = {(f"{r.value}-{g}", r.value, g) for r in Role for g in ("US", "EU")}
    expected |= {("admin-global", "admin", "*"), ("auditor-global", "auditor", "*")}
    assert held == expected
    assert partner == "PARTNER"
    # a vendor moderator always belongs to a vendor; nobody else is seeded with one
    assert {name: org for name, org in vendors.items() if org} == {
        "vendor_moderator-US": "outsourcing-co",
        "vendor_moderator-EU": "outsourcing-co",
    }
    assert first == {"staff": 18, "role_assignments": 18, "partners": 1}
    assert second == {"staff": 0, "role_assignments": 0, "partners": 0}

    before = await row_counts(db_url)
    token = await issue_staff_token(db_url, "senior_moderator", "EU")
    after = await row_counts(db_url)
    assert (after["principals"], after["role_assignments"]) == (before["principals"], before["role_assignments"])
    viewer = (await gql("{ viewer { displayName roles { role region } } }", token=token))["data"]["viewer"]
    assert viewer == {"displayName": "Senior moderator (EU)", "roles": [{"role": "senior_moderator", "region": "EU"}]}
