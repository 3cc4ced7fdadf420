"""The lease rule has one domain definition (``Lease.is_free``) and its SQL form (``lease_is_free``), used by the
case and appeal claim queries: both judge the same expiry times at the same instant and must agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from domain.lease import Lease
from persistence.db import create_engine, create_session_factory
from persistence.operations import lease_is_free


async def test_python_and_sql_agree_on_free_leases(db_url: str) -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    expiries = [None, now - timedelta(seconds=1), now, now + timedelta(microseconds=1), now + timedelta(minutes=15)]
    column = sa.column("expires_at", sa.DateTime(timezone=True))
    rows = sa.values(sa.column("n", sa.Integer), column, name="leases").data(list(enumerate(expiries)))
    engine = create_engine(db_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            stmt = sa.select(rows.c.n, lease_is_free(rows.c.expires_at, sa.literal(now))).order_by(rows.c.n)
            sql = [bool(free) for _, free in (await session.execute(stmt)).all()]
    finally:
        await engine.dispose()
    domain = [Lease("someone", e).is_free(now) for e in expiries]
    assert sql == domain == [True, True, True, False, False]
