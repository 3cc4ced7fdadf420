"""Derived statuses as SQL predicates, each beside the domain rule it mirrors (``tests/integration/
test_derived_status.py`` runs both on the same rows and expects the same answers).

- A strike's status by the clock: ``domain.strike.Strike.status_at`` — REVERSED when reversed, ACTIVE while
  ``issued_at <= now < expires_at``, EXPIRED otherwise.
- An account's status in force now: ``domain.account.Account.status_now`` — the stored status while its
  ``status_until`` has not passed, ACTIVE once it has (a lapsed suspension needs no job to end it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from domain.account import AccountStatus
from domain.strike import StrikeStatus
from persistence.tables.moderated import accounts
from persistence.tables.outcomes import strikes


def strike_status_is(status: StrikeStatus, now: datetime) -> sa.ColumnElement[bool]:
    t = strikes.c
    if status is StrikeStatus.REVERSED:
        return t.status == StrikeStatus.REVERSED
    active = sa.and_(t.status != StrikeStatus.REVERSED, t.issued_at <= now, t.expires_at > now)
    return active if status is StrikeStatus.ACTIVE else sa.and_(t.status != StrikeStatus.REVERSED, sa.not_(active))


def account_status_is(status: AccountStatus, now: datetime) -> sa.ColumnElement[bool]:
    t = accounts.c
    lasting: Any = sa.or_(t.status_until.is_(None), t.status_until > now)
    stored = sa.and_(t.status == status, lasting)
    if status is AccountStatus.ACTIVE:
        return sa.or_(stored, t.status_until <= now)
    return stored
