"""The database itself refuses to change or remove audit events and seals."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from persistence.audit import seal_all
from persistence.db import SessionFactory
from tests.integration.audit.conftest import event, write

STATEMENTS = [
    "UPDATE audit_events SET reason = 'rewritten'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events CASCADE",
    "UPDATE audit_seals SET chain_hash = repeat('0', 64)",
    "DELETE FROM audit_seals",
    "TRUNCATE audit_seals",
]


@pytest.mark.parametrize("statement", STATEMENTS)
async def test_changes_are_refused(sessions: SessionFactory, statement: str) -> None:
    await write(sessions, [event(1), event(2)])
    await seal_all(sessions)
    async with sessions() as session:
        with pytest.raises(DBAPIError, match="append-only") as caught:
            await session.execute(sa.text(statement))
        await session.rollback()
    assert getattr(caught.value.orig, "sqlstate", None) == "42501"  # insufficient_privilege
    async with sessions() as session:
        events = (await session.execute(sa.text("SELECT count(*), count(reason) FROM audit_events"))).one()
        seals = (await session.execute(sa.text("SELECT count(*) FROM audit_seals"))).scalar_one()
    assert tuple(events) == (2, 0)
    assert seals == 2


async def test_inserting_is_allowed(sessions: SessionFactory) -> None:
    await write(sessions, [event(1)])
    async with sessions() as session:
        assert (await session.execute(sa.text("SELECT count(*) FROM audit_events"))).scalar_one() == 1
