"""Statements of reasons, read in bulk: the export of a period (streamed, server-side cursor)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncResult, AsyncSession

from persistence.tables.outcomes import statements_of_reasons

_st = statements_of_reasons.c


def _period(since: datetime | None, until: datetime | None) -> list[sa.ColumnElement[bool]]:
    where = []
    if since is not None:
        where.append(_st.created_at >= since)
    if until is not None:
        where.append(_st.created_at < until)
    return where


async def count_statements(session: AsyncSession, *, since: datetime | None, until: datetime | None) -> int:
    stmt = sa.select(sa.func.count()).select_from(statements_of_reasons).where(*_period(since, until))
    return int((await session.execute(stmt)).scalar_one())


async def stream_statements(
    session: AsyncSession, *, since: datetime | None, until: datetime | None, chunk: int = 1000
) -> AsyncResult[Any]:
    """The statements taken in ``[since, until)``, oldest first: their fields, submission state and the database's
    reasons when it rejected one."""
    stmt = (
        sa.select(_st.fields, _st.submission, _st.database_id, _st.rejection)
        .where(*_period(since, until))
        .order_by(_st.created_at, _st.id)
        .execution_options(yield_per=chunk)
    )
    result: AsyncResult[Any] = await session.stream(stmt)
    return result
