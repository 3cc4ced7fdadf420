"""Rule 9 building blocks: limits, errors, the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain import limits, seniority
from domain.clock import FixedClock, SystemClock
from domain.errors import DomainError, ErrorCode


def test_limits_are_defined_in_one_place() -> None:
    assert (limits.RATIONALE_MAX, limits.TEXT_MAX, limits.NAME_MAX, limits.URL_MAX) == (5000, 10_000, 200, 2048)


def test_text_validator() -> None:
    assert limits.text("ok", field="f", max_len=2) == "ok"
    with pytest.raises(DomainError) as blank:
        limits.text(" \n", field="name", max_len=10)
    with pytest.raises(DomainError) as long:
        limits.text("abc", field="name", max_len=2)
    assert (blank.value.code, blank.value.field) == (ErrorCode.INVALID_INPUT, "name")
    assert "at most 2" in long.value.message


def test_url_validator() -> None:
    assert limits.url("https://example.com/x", field="u") == "https://example.com/x"
    for bad in ("example.com", "mailto:a@b.c", "https://"):
        with pytest.raises(DomainError):
            limits.url(bad, field="u")


def test_error_helpers_and_equality() -> None:
    error = DomainError.conflict("taken", "externalId")
    assert (error.code, error.message, error.field) == (ErrorCode.CONFLICT, "taken", "externalId")
    assert str(error) == "taken"
    assert error == DomainError(ErrorCode.CONFLICT, "taken", "externalId")
    assert {DomainError.not_found("x").code, DomainError.forbidden("x").code} == {
        ErrorCode.NOT_FOUND,
        ErrorCode.FORBIDDEN,
    }


def test_fixed_clock() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    clock = FixedClock(start)
    assert clock.now() == start
    assert clock.advance(timedelta(hours=2)) == start + timedelta(hours=2)
    clock.set(datetime(2025, 6, 1, 2, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == datetime(2025, 6, 1, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2025, 1, 1))


def test_system_clock_is_utc() -> None:
    assert SystemClock().now().tzinfo is UTC


def test_seniority_order() -> None:
    levels = [
        seniority.AUTOMATION,
        seniority.VENDOR_MODERATOR,
        seniority.MODERATOR,
        seniority.SENIOR_MODERATOR,
        seniority.POLICY_MANAGER,
        seniority.ADMIN,
    ]
    assert levels == [0, 1, 2, 3, 4, 5]
