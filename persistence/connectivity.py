"""Start-up checks on a database URL: is it well formed, and does a server answer there; and, while serving, does
the database answer again after an outage (``answers``)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from persistence.db import SessionFactory


class DatabaseUnreachable(Exception):
    """The configured database cannot be reached; the message is one line, without the password."""


def safe_url(url: str) -> str:
    """The URL with its password masked (for messages)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


async def _probe(url: str, seconds: float) -> None:
    import asyncpg

    parsed = make_url(url).set(drivername="postgresql")
    conn = await asyncpg.connect(parsed.render_as_string(hide_password=False), timeout=seconds)
    await conn.close()


def check_reachable(url: str, *, timeout: float = 5.0, source: str = "VIGIL_DATABASE_URL") -> None:
    """Connect once; raise ``DatabaseUnreachable`` with a one-line reason when that fails."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnreachable(
            f"{source} is not a database URL; expected postgresql+asyncpg://user:password@host:5432/database"
        ) from None
    if not parsed.drivername.startswith("postgresql"):
        raise DatabaseUnreachable(
            f"{source} names driver {parsed.drivername!r}; expected postgresql+asyncpg://user:password@host:5432/db"
        )
    try:
        asyncio.run(asyncio.wait_for(_probe(url, timeout), timeout + 1))
    except Exception as exc:  # any failure to connect is reported the same way, in one line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnreachable(
            f"cannot reach the database at {safe_url(url)} ({source}): {type(exc).__name__}: {reason}"
        ) from None


async def answers(sessions: SessionFactory) -> bool:
    """Whether the database answers one ``SELECT 1`` on a session of ``sessions`` (False when it cannot)."""
    try:
        async with sessions() as session:
            await session.execute(sa.text("SELECT 1"))
    except (TimeoutError, SQLAlchemyError, OSError):
        return False
    return True
