"""What a failure from the database side means, for the layers above persistence (which import no SQLAlchemy).

- ``database_error``: the database side failed (a statement, a connection, the pool), as opposed to a bug above it.
- ``database_unavailable`` (``persistence.availability``): the database cannot be reached at all; answer 503, wait.
- ``lost_race`` (``persistence.retry``): someone else committed first (unique violation, serialization failure,
  deadlock, a version guard that matched no row); run the command again.
"""

from __future__ import annotations

from typing import Final

import asyncpg
from sqlalchemy.exc import SQLAlchemyError

from persistence.availability import database_unavailable
from persistence.retry import lost_race

__all__ = ["DATABASE_ERRORS", "database_error", "database_unavailable", "lost_race"]

DATABASE_ERRORS: Final[tuple[type[BaseException], ...]] = (
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)
"""What the database side raises (for an ``except`` clause): a failed statement or lost connection on either
connection stack (SQLAlchemy's sessions, the asyncpg pool), or the network under them."""


def database_error(exc: BaseException) -> bool:
    """Whether ``exc`` came from the database side (``DATABASE_ERRORS``), as opposed to a bug above it."""
    return isinstance(exc, DATABASE_ERRORS)
