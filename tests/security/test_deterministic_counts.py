"""Issue 10 item 11: "nothing was written" compares row counts that the app's background sealer cannot change.

The sealer appends to `audit_seals` on its own clock (every 2 s in a running app). Here a sealing pass runs,
deterministically, between two counts, exactly where the background one could fall under a loaded machine."""

from __future__ import annotations

import sqlalchemy as sa

from persistence.audit import seal_all
from persistence.db import create_engine, create_session_factory
from tests.integration.tokens import BACKGROUND_TABLES, issue_staff_token, row_counts


async def test_a_sealing_pass_between_two_counts_changes_nothing(db_url: str) -> None:
    await issue_staff_token(db_url, "auditor", "*")  # writes audit events, left unsealed
    before = await row_counts(db_url)

    engine = create_engine(db_url, pool_size=1)
    try:
        sealed = await seal_all(create_session_factory(engine))
        async with engine.connect() as conn:
            seals = (await conn.execute(sa.text("SELECT count(*) FROM audit_seals"))).scalar_one()
    finally:
        await engine.dispose()

    assert sealed > 0  # the pass did write seals...
    assert seals >= sealed
    assert await row_counts(db_url) == before  # ...and the counts that tests compare did not move
    assert {"audit_seals"} == BACKGROUND_TABLES
    assert "audit_events" in before  # the refusal records a test does expect are still counted
