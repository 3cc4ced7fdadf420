"""`vigil audit verify` and `vigil audit export` against a real database."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from persistence.audit import write_events
from persistence.db import create_engine, create_session_factory
from tests.integration.audit.conftest import event

runner = CliRunner()


def _seed(db_url: str, n: int = 5) -> None:
    async def go() -> None:
        engine = create_engine(db_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                await write_events(session, [event(i) for i in range(1, n + 1)])
        finally:
            await engine.dispose()

    asyncio.run(go())


def _tamper(db_url: str, statement: str) -> None:
    async def go() -> None:
        import sqlalchemy as sa

        engine = create_engine(db_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                await session.execute(sa.text("SET LOCAL session_replication_role = replica"))
                await session.execute(sa.text(statement))
        finally:
            await engine.dispose()

    asyncio.run(go())


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("VIGIL_DATABASE_URL", db_url)
    return db_url


def test_verify_seals_then_passes(env: str) -> None:
    _seed(env)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "sealed 5 pending event(s)" in result.output
    assert "audit trail intact" in result.output
    assert "5 event(s) verified" in result.output


def test_verify_fails_naming_the_first_broken_event(env: str) -> None:
    _seed(env)
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    _tamper(env, "DELETE FROM audit_events WHERE seq = 2")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "audit trail broken at event 2" in result.output
    assert "event 2 was deleted" in result.output


def test_export_streams_json_lines_in_range(env: str, tmp_path: object) -> None:
    _seed(env, 6)
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    result = runner.invoke(
        app, ["audit", "export", "--since", "2026-10-01T09:02:00+00:00", "--until", "2026-10-01T09:05", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [line["seq"] for line in lines] == [2, 3, 4]
    assert lines[0]["seal_position"] == 2
    assert lines[0]["after"] == {"state": "DECIDED", "n": 2}
    assert len(lines[0]["chain_hash"]) == 64


def test_export_refuses_an_empty_range(env: str) -> None:
    result = runner.invoke(app, ["audit", "export", "--since", "2026-10-02", "--until", "2026-10-01"])
    assert result.exit_code == 2
