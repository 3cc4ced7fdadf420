"""PostgreSQL advisory lock keys: bootstrap steps that must not run twice at once take one (session level), and
every transaction that opens or folds into a subject's case takes the subject's (transaction level)."""

from __future__ import annotations

import uuid
from typing import Final

#: Held while checking for and creating a database (``CREATE DATABASE`` cannot run in a transaction).
CREATE_DATABASE_LOCK: Final = 0x5649_4749_4C00_0001
#: Held while Alembic migrates a database, so concurrent upgrades run one after the other.
MIGRATIONS_LOCK: Final = 0x5649_4749_4C00_0002


def subject_lock_key(subject_id: uuid.UUID) -> int:
    """The transaction-level advisory lock that serialises everything that opens or folds into a subject's case,
    on every engine (the SQL unit of work's ``find_open_for_subject``, report intake's locked attempt, and the
    check of its unlocked one): the first 8 bytes of the subject's id as a signed bigint."""
    return int.from_bytes(subject_id.bytes[:8], "big", signed=True)
