"""Fixtures for the audit trail tests: a session factory on the test's database and an event writer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from persistence.audit import AuditRecord, write_events
from persistence.db import SessionFactory, create_engine, create_session_factory

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(db_url, pool_size=4)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


def event(n: int, *, region: str | None = "US", **overrides: object) -> AuditRecord:
    fields: dict[str, object] = {
        "occurred_at": T0 + timedelta(minutes=n),
        "actor_kind": "STAFF",
        "actor_id": f"staff-{n % 3}",
        "action": "decideCase" if n % 2 else "submitReport",
        "subject_kind": "Case",
        "subject_id": f"00000000-0000-0000-0000-{n:012d}",
        "region": region,
        "request_id": f"req-{n}",
        "reason": None,
        "before": {"state": "ASSIGNED"} if n % 2 else None,
        "after": {"state": "DECIDED", "n": n},
    }
    fields.update(overrides)
    return AuditRecord(**fields)  # type: ignore[arg-type]


async def write(sessions: SessionFactory, records: list[AuditRecord]) -> None:
    async with sessions() as session, session.begin():
        await write_events(session, records)


async def superuser_sql(sessions: SessionFactory, *statements: str) -> None:
    """Tamper behind the application's back: triggers off, change, triggers on (what a DBA could do)."""
    async with sessions() as session, session.begin():
        await session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            await session.execute(sa.text(statement))
