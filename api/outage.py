"""Database outages: recognise one, answer 503 while it lasts, and log its start and end once each.

While the database is known to be down, every request first probes it (one `SELECT 1`); a failed probe answers
503 `SERVICE_UNAVAILABLE` at once, a successful one logs that the database is back and serves the request.
"""

from __future__ import annotations

import logging

from persistence.connectivity import answers
from persistence.db import SessionFactory
from persistence.errors import database_unavailable

log = logging.getLogger("vigil.database")
__all__ = ["RETRY_AFTER_SECONDS", "DatabaseHealth", "database_unavailable"]

RETRY_AFTER_SECONDS = 5


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
        if not await answers(sessions):
            return False
        self.came_back()
        return True
