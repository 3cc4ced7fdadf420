"""Each derived status a list can filter on has one rule in the domain and its SQL form in
``persistence.queries.status``: here both judge the same rows at the same instant and must agree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from domain.account import Account, AccountKind, AccountStatus
from domain.policy import Severity
from domain.region import Region
from domain.strike import Strike, StrikeStatus
from domain.subject import Surface
from persistence.db import create_engine
from persistence.queries.status import account_status_is, strike_status_is
from persistence.repositories import ACCOUNTS, STRIKES

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _accounts() -> list[Account]:
    cases = [(status, until) for status in AccountStatus for until in (None, NOW - HOUR, NOW, NOW + HOUR)]
    return [
        Account(region=Region.US, external_id=f"derived-{i}", kind=AccountKind.USER, handle=f"h{i}",
                display_name="d", status=status, status_until=until, created_at=NOW, updated_at=NOW)
        for i, (status, until) in enumerate(cases)
    ]  # fmt: skip


def _strikes() -> list[Strike]:
    rows = []
    for stored in (StrikeStatus.ACTIVE, StrikeStatus.REVERSED):
        for issued, expires in ((NOW - 2 * HOUR, NOW - HOUR), (NOW - HOUR, NOW), (NOW - HOUR, NOW + HOUR),
                                (NOW + HOUR, NOW + 2 * HOUR)):  # fmt: skip
            rows.append(
                Strike(region=Region.US, account_id=uuid.uuid4(), policy_id=uuid.uuid4(),
                       policy_version_id=uuid.uuid4(), decision_id=uuid.uuid4(), surface=Surface.CONTENT,
                       severity=Severity.HIGH, weight=1, issued_at=issued, expires_at=expires, status=stored,
                       created_at=NOW, updated_at=NOW)
            )  # fmt: skip
    return rows


async def test_account_status_in_force_agrees_in_sql_and_python(db_url: str) -> None:
    accounts = _accounts()
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn, conn.begin() as transaction:
            await conn.execute(sa.insert(ACCOUNTS.table), [ACCOUNTS.to_row(a) for a in accounts])
            for status in AccountStatus:
                query = sa.select(ACCOUNTS.table.c.id).where(account_status_is(status, NOW))
                in_sql = set((await conn.execute(query)).scalars())
                in_python = {a.id for a in accounts if a.status_now(NOW) is status}
                assert in_sql == in_python, status
            await transaction.rollback()
    finally:
        await engine.dispose()


async def test_strike_status_by_the_clock_agrees_in_sql_and_python(db_url: str) -> None:
    strikes = _strikes()
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn, conn.begin() as transaction:
            await conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # no parent rows needed
            await conn.execute(sa.insert(STRIKES.table), [STRIKES.to_row(s) for s in strikes])
            for status in StrikeStatus:
                query = sa.select(STRIKES.table.c.id).where(strike_status_is(status, NOW))
                in_sql = set((await conn.execute(query)).scalars())
                in_python = {s.id for s in strikes if s.status_at(NOW) is status}
                assert in_sql == in_python, status
                assert in_python, f"no row exercises {status}"
            await transaction.rollback()
    finally:
        await engine.dispose()
