"""Telling "the database cannot be reached" apart from "this statement failed", for whoever must react to an
outage differently from a bug (the app answers 503, the audit sealer waits quietly)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "57P")  # connection exceptions; operator intervention (admin shutdown...)
_UNAVAILABLE_NAMES = {
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "CannotConnectNowError",
    "TooManyConnectionsError",
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
