"""Input limits, in one place, and the validators that enforce them.

Every validator raises ``DomainError(INVALID_INPUT, ..., field)`` and returns the value unchanged.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from domain.errors import DomainError

NAME_MAX: Final = 200  # names, handles, titles, headlines, external ids, codes, categories
TEXT_MAX: Final = 10_000  # report text, content text, ad body, appeal statement, descriptions
RATIONALE_MAX: Final = 5_000  # decision / appeal rationale, escalation reason, ad restrictions
URL_MAX: Final = 2_048
EMAIL_MAX: Final = 320
PHONE_MAX: Final = 32
LANGUAGE_MAX: Final = 35  # BCP 47 tag
IDEMPOTENCY_KEY_MAX: Final = 200
MEDIA_REFS_MAX: Final = 20
BATCH_MAX: Final = 100  # items per batch command
STRIKE_WEIGHT_MAX: Final = 10
STRIKE_TTL_DAYS_MAX: Final = 3_650
ACTION_DURATION_DAYS_MAX: Final = 3_650
REACH_MAX: Final = 10**15

POLICY_CODE_RE: Final = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")


def text(value: str, *, field: str, max_len: int) -> str:
    """Required string: not blank, at most ``max_len`` characters."""
    if not value.strip():
        raise DomainError.invalid_input(f"{field} must not be empty", field)
    optional_text(value, field=field, max_len=max_len)
    return value


def optional_text(value: str | None, *, field: str, max_len: int) -> str | None:
    """Optional string: ``None`` allowed; if given, at most ``max_len`` characters."""
    if value is not None and len(value) > max_len:
        raise DomainError.invalid_input(f"{field} must be at most {max_len} characters", field)
    return value


def url(value: str, *, field: str) -> str:
    """Required absolute http(s) URL."""
    text(value, field=field, max_len=URL_MAX)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DomainError.invalid_input(f"{field} must be an absolute http(s) URL", field)
    return value


def optional_url(value: str | None, *, field: str) -> str | None:
    return None if value is None else url(value, field=field)


def ip_address(value: str | None, *, field: str) -> str | None:
    if value is None:
        return None
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise DomainError.invalid_input(f"{field} is not an IP address", field) from None
    return value


def int_range(value: int, *, field: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise DomainError.invalid_input(f"{field} must be between {low} and {high}", field)
    return value


def items(values: Sequence[str], *, field: str, max_items: int, max_len: int) -> tuple[str, ...]:
    if len(values) > max_items:
        raise DomainError.invalid_input(f"{field} must have at most {max_items} items", field)
    for value in values:
        text(value, field=field, max_len=max_len)
    return tuple(values)


def policy_code(value: str, *, field: str = "code") -> str:
    if not POLICY_CODE_RE.match(value):
        raise DomainError.invalid_input(f"{field} must match {POLICY_CODE_RE.pattern}", field)
    return value
