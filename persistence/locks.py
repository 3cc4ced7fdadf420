"""PostgreSQL advisory lock keys: bootstrap steps that must not run twice at once take one (session level)."""

from __future__ import annotations

from typing import Final

#: Held while checking for and creating a database (``CREATE DATABASE`` cannot run in a transaction).
CREATE_DATABASE_LOCK: Final = 0x5649_4749_4C00_0001
#: Held while Alembic migrates a database, so concurrent upgrades run one after the other.
MIGRATIONS_LOCK: Final = 0x5649_4749_4C00_0002
