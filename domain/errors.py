"""The single domain error type and its stable codes."""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class ErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_STATE = "INVALID_STATE"
    CONFLICT = "CONFLICT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    """A conflict: the idempotency key was first used for a different request."""
    FORBIDDEN = "FORBIDDEN"


class DomainError(Exception):
    """A rule was violated. ``field`` names the offending input field (camelCase, as in the API), if any.

    Services raise it *before* mutating anything, so a caught ``DomainError`` means nothing changed.
    """

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"DomainError({self.code.value}, {self.message!r}, field={self.field!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DomainError):
            return NotImplemented
        return (self.code, self.message, self.field) == (other.code, other.message, other.field)

    def __hash__(self) -> int:
        return hash((self.code, self.message, self.field))

    @classmethod
    def not_found(cls, message: str, field: str | None = None) -> Self:
        return cls(ErrorCode.NOT_FOUND, message, field)

    @classmethod
    def invalid_input(cls, message: str, field: str | None = None) -> Self:
        return cls(ErrorCode.INVALID_INPUT, message, field)

    @classmethod
    def invalid_state(cls, message: str, field: str | None = None) -> Self:
        return cls(ErrorCode.INVALID_STATE, message, field)

    @classmethod
    def conflict(cls, message: str, field: str | None = None) -> Self:
        return cls(ErrorCode.CONFLICT, message, field)

    @classmethod
    def forbidden(cls, message: str, field: str | None = None) -> Self:
        return cls(ErrorCode.FORBIDDEN, message, field)
