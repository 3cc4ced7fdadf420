"""What DSA submission (``api.services.dsa_submit``) asks of the database beside its unit of work: the lock that lets
one submission run at a time across processes, and a statement's decision by puid."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.db import SessionFactory
from persistence.tables.outcomes import statements_of_reasons

SUBMISSION_LOCK: Final = 0x5649_4749_4C44
"""The session-level advisory lock key held for a whole submission run."""


@contextlib.asynccontextmanager
async def submission_lock(sessions: SessionFactory) -> AsyncIterator[bool]:
    """Try ``SUBMISSION_LOCK`` on a connection of its own, held until the block ends: True when taken, False (and
    nothing held) when another run holds it."""
    async with sessions() as holder:
        lock = sa.text("SELECT pg_try_advisory_lock(:key)")
        if not (await holder.execute(lock, {"key": SUBMISSION_LOCK})).scalar_one():
            yield False
            return
        try:
            yield True
        finally:
            await holder.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": SUBMISSION_LOCK})


async def decision_of_statement(session: AsyncSession, puid: str) -> uuid.UUID | None:
    """The decision whose statement of reasons has ``puid`` (None: no such statement)."""
    found: uuid.UUID | None = await session.scalar(
        sa.select(statements_of_reasons.c.decision_id).where(statements_of_reasons.c.puid == puid)
    )
    return found
