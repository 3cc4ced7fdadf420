"""Orders from Member State authorities (EU DSA art. 9 and 10): an order to act against illegal content, or to
provide information about recipients of the service. Vigil does not receive them itself (they come by letter,
e-mail or a national portal): whoever handles them records each one (``recordAuthorityOrder``) so the transparency
report can count them by type, Member State and kind of illegal content, with the median time to inform the
authority of the order's receipt and to give effect to it (art. 15(1)(a)).

An order is recorded once; ``informed_at`` and ``acted_at`` may be filled in later (``settle``), never moved back
before its receipt, never changed once set.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from domain import limits
from domain.dsa.vocabulary import Category, Country
from domain.errors import DomainError
from domain.region import Region

#: Vigil's data regions where orders of EU Member State authorities apply.
ORDER_REGIONS: Final = frozenset({Region.EU})
#: How far ahead of the clock a stated time may be (clock skew between the recorder and the server).
SKEW: Final = timedelta(minutes=5)


class OrderKind(StrEnum):
    ACT_AGAINST_ILLEGAL_CONTENT = "ACT_AGAINST_ILLEGAL_CONTENT"  # art. 9
    PROVIDE_INFORMATION = "PROVIDE_INFORMATION"  # art. 10


def given_time(value: datetime, field: str) -> datetime:
    """A time from the caller, in UTC; one without a UTC offset is INVALID_INPUT (never guessed)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise DomainError.invalid_input(f"{field} needs a UTC offset (e.g. 2026-03-01T09:00:00Z)", field)
    return value.astimezone(UTC)


def _not_future(value: datetime | None, now: datetime, field: str) -> None:
    if value is not None and value > now + SKEW:
        raise DomainError.invalid_input(f"{field} is in the future", field)


def _not_before(value: datetime | None, received_at: datetime, field: str) -> None:
    if value is not None and value < received_at:
        raise DomainError.invalid_input(f"{field} is before the order was received", field)


@dataclass(kw_only=True)
class AuthorityOrder:
    """One order. ``category``: the kind of illegal content concerned (the DSA statement categories);
    ``case_id``: the case it concerns in Vigil, when there is one; ``reference``: the authority's own reference."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    kind: OrderKind
    member_state: Country
    authority: str
    reference: str | None = None
    category: str  # a ``Category`` value (too long for an enum column)
    case_id: uuid.UUID | None = None
    received_at: datetime
    informed_at: datetime | None = None
    acted_at: datetime | None = None
    recorded_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def record(
        cls,
        *,
        region: Region,
        kind: OrderKind,
        member_state: Country,
        authority: str,
        reference: str | None,
        category: Category,
        case_id: uuid.UUID | None,
        received_at: datetime,
        informed_at: datetime | None,
        acted_at: datetime | None,
        recorded_by: str,
        now: datetime,
    ) -> AuthorityOrder:
        if region not in ORDER_REGIONS:
            raise DomainError.invalid_input("orders of EU Member State authorities are recorded in the EU", "region")
        limits.text(authority, field="authority", max_len=limits.NAME_MAX)
        limits.optional_text(reference, field="reference", max_len=limits.NAME_MAX)
        received_at = given_time(received_at, "receivedAt")
        _not_future(received_at, now, "receivedAt")
        order = cls(
            region=region,
            kind=kind,
            member_state=member_state,
            authority=authority.strip(),
            reference=reference,
            category=category.value,
            case_id=case_id,
            received_at=received_at,
            recorded_by=recorded_by,
            created_at=now,
            updated_at=now,
        )
        order.settle(informed_at=informed_at, acted_at=acted_at, now=now)
        return order

    def settle(self, *, informed_at: datetime | None, acted_at: datetime | None, now: datetime) -> None:
        """Fill in when the authority was informed and when the order took effect (each once)."""
        informed_at = None if informed_at is None else given_time(informed_at, "informedAt")
        acted_at = None if acted_at is None else given_time(acted_at, "actedAt")
        for value, current, name in (
            (informed_at, self.informed_at, "informedAt"),
            (acted_at, self.acted_at, "actedAt"),
        ):
            if value is None:
                continue
            if current is not None and current != value:
                raise DomainError.invalid_state(f"{name} is already recorded", name)
            _not_future(value, now, name)
            _not_before(value, self.received_at, name)
        self.informed_at = informed_at or self.informed_at
        self.acted_at = acted_at or self.acted_at
        self.updated_at = now
