"""The audit chain's known-answer vector (`tests/unit/audit/test_known_answer.py`) stored in PostgreSQL, sealed and
verified by `vigil audit verify`: the trail a fresh database holds after these events is intact and its head is
the vector's. What JSONB and timestamptz hand back must hash as the events were written."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli.main import app
from persistence.audit import AuditRecord, write_events
from persistence.db import create_engine, create_session_factory
from persistence.tables.audit import audit_events
from tests.unit.audit.test_known_answer import EVENTS, HEAD, SEQS


class RolledBack(Exception):
    pass


def _store(db_url: str) -> list[int]:
    """Commit the vector's events at seq 7, 8 and 12 of a fresh trail: rolled-back inserts use up the numbers
    between (an identity is never given back), as they do in production."""

    async def go() -> list[int]:
        engine = create_engine(db_url, pool_size=1)
        sessions = create_session_factory(engine)

        async def write(records: list[AuditRecord], *, commit: bool) -> None:
            try:
                async with sessions() as session, session.begin():
                    await write_events(session, records)
                    if not commit:
                        raise RolledBack
            except RolledBack:
                pass

        try:
            await write([EVENTS[0]] * 6, commit=False)  # seq 1-6
            await write([EVENTS[0]], commit=True)  # 7
            await write([EVENTS[1]], commit=True)  # 8
            await write([EVENTS[2]] * 3, commit=False)  # 9-11
            await write([EVENTS[2]], commit=True)  # 12
            async with engine.connect() as conn:
                rows = await conn.execute(sa.select(audit_events.c.seq).order_by(audit_events.c.seq))
                return [row.seq for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_vigil_audit_verify_reaches_the_vectors_head(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _store(db_url) == list(SEQS)  # a fresh database's trail: no event before these
    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")  # one line for the head

    result = CliRunner().invoke(app, ["audit", "verify"])

    assert result.exit_code == 0, result.output
    assert "sealed 3 pending event(s)" in result.output
    assert "audit trail intact: 3 event(s) verified" in result.output
    assert f"head: position 3, chain hash {HEAD}" in result.output
