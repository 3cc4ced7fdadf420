"""One retry policy for every command on every engine: what a lost race is, how often to try, how to give up.

A command loses a race when someone else committed first between its read and its write: a version-guarded
update matched no row (``LostRace``, raised by the SQL unit of work and the prefetching ones alike), a row it
inserted already exists (unique violation: another request opened the subject's case first), or PostgreSQL broke a
deadlock or a serialization failure. Nothing was written; the command runs again on fresh rows. After ``ATTEMPTS``
tries it gives up with ``GaveUp``: the one typed CONFLICT every command answers when records kept changing.

Used by the GraphQL runner (``run``, ``run_prefetched``: every mutation), the bulk job runner (a chunk) and
``cancelBulkJob``. No sleeping between attempts: a retry that needs to wait for someone waits on a lock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

import asyncpg
from sqlalchemy.exc import DBAPIError

from domain.errors import DomainError, ErrorCode

T = TypeVar("T")
log = logging.getLogger("vigil.retry")

ATTEMPTS: Final = 6
"""Tries per command. Report intake's first one runs unlocked (``persistence.fast.prefetched``); every retry takes the
subjects' locks, and nobody changes a subject's case under them, so a crowd needs two tries per request."""

#: unique violation, serialization failure, deadlock detected
_RACE_STATES: Final = frozenset({"23505", "40001", "40P01"})


class LostRace(DomainError):
    """A row changed between the read and the write (someone else committed first): run the command again. A
    CONFLICT for whoever does not retry."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.CONFLICT, message)


class GaveUp(DomainError):
    """The typed CONFLICT of a command that lost its race ``ATTEMPTS`` times."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.CONFLICT, "the records kept changing under this request; try again")


def lost_race(exc: BaseException) -> bool:
    """Whether ``exc`` means the attempt lost a race and wrote nothing (as opposed to a refusal or a fault)."""
    if isinstance(exc, LostRace):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate in _RACE_STATES
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        state = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
        return state in _RACE_STATES
    return False


def _described(exc: BaseException) -> str:
    """The kind of loss, with the constraint's name when PostgreSQL gave one: no message text (its DETAIL repeats
    the row's values)."""
    if isinstance(exc, LostRace):
        return "a version guard matched no row"
    orig = getattr(exc, "orig", exc)
    error = orig if isinstance(orig, asyncpg.PostgresError) else getattr(orig, "__cause__", None)
    state = getattr(error, "sqlstate", None)
    constraint = getattr(error, "constraint_name", None)
    return f"SQLSTATE {state}" + (f" on constraint {constraint}" if constraint else "")


async def retrying(attempt: Callable[[int], Awaitable[T]], *, what: str = "command") -> T:
    """``await attempt(n)`` for n = 1, 2, ... until it returns, raises something other than a lost race, or has
    lost ``ATTEMPTS`` times (then ``GaveUp``)."""
    for n in range(1, ATTEMPTS + 1):
        try:
            return await attempt(n)
        except Exception as exc:
            if not lost_race(exc):
                raise
            if n == ATTEMPTS:
                # Six losses in a row are rarely a race: say which rule kept refusing (never the row's values)
                log.warning("gave up %s after %d tries: %s", what, ATTEMPTS, _described(exc))
                raise GaveUp() from exc
            log.info("retrying %s after a lost race (%s)", what, type(exc).__name__)
    raise AssertionError("unreachable")
