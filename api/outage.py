"""Database outages: recognise one, answer 503 while it lasts, and log its start and end once each.

While the database is known to be down, every request first probes it (one `SELECT 1`); a failed probe answers
503 `SERVICE_UNAVAILABLE` at once, a successful one logs that the database is back and serves the request.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from persistence.db import SessionFactory

log = logging.getLogger("vigil.database")

RETRY_AFTER_SECONDS = 5
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "57P")  # connection exceptions; operator intervention (admin shutdown...)
_UNAVAILABLE_NAMES = {
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "CannotConnectNowError",
    "TooManyConnectionsError",
    "InternalClientError",
}


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it wraps) says the database cannot be reached, as opposed to a bad statement."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError):  # refused, reset, unreachable, connect timeout
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        sqlstate = getattr(exc, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATE_CLASSES):
            return True
        if type(exc).__name__ in _UNAVAILABLE_NAMES and type(exc).__module__.startswith("asyncpg"):
            return True
        following = getattr(exc, "orig", None) if isinstance(exc, SQLAlchemyError) else None
        exc = following or exc.__cause__ or exc.__context__
    return False


class DatabaseHealth:
    """One WARNING when the database goes away, one INFO when it is back; ``down`` in between."""

    def __init__(self) -> None:
        self.down = False

    def went_away(self, exc: BaseException | None = None) -> None:
        if not self.down:
            self.down = True
            reason = type(exc).__name__ if exc is not None else "unknown"
            log.warning("database unavailable: answering 503 until it is back", extra={"reason": reason})

    def came_back(self) -> None:
        if self.down:
            self.down = False
            log.info("database available again")

    async def probe(self, sessions: SessionFactory) -> bool:
        """While down: is it back? (True, and logged once, when it is.)"""
        try:
            async with sessions() as session:
                await session.execute(sa.text("SELECT 1"))
        except (TimeoutError, SQLAlchemyError, OSError):
            return False
        self.came_back()
        return True
