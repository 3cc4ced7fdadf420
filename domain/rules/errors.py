"""Typed errors of the rules language: every one names a stable code and, when it comes from rule text, the
line and column (1-based) where the problem starts.

``RuleSyntaxError``: the text does not parse. ``RuleDefinitionError``: it parses but cannot be defined (unknown
list, signal, attribute, event type, policy, region, counter source; type error; bad regex; bad action). Both are
raised at definition time, before anything is stored, so a caller maps them to a typed API error.
"""

from __future__ import annotations

from enum import StrEnum


class RuleErrorCode(StrEnum):
    SYNTAX_ERROR = "SYNTAX_ERROR"
    UNKNOWN_LIST = "UNKNOWN_LIST"
    LIST_KIND_MISMATCH = "LIST_KIND_MISMATCH"
    UNKNOWN_SIGNAL = "UNKNOWN_SIGNAL"
    UNKNOWN_ATTRIBUTE = "UNKNOWN_ATTRIBUTE"
    UNKNOWN_EVENT_TYPE = "UNKNOWN_EVENT_TYPE"
    UNKNOWN_ENTITY = "UNKNOWN_ENTITY"
    UNKNOWN_FACT = "UNKNOWN_FACT"
    UNKNOWN_FUNCTION = "UNKNOWN_FUNCTION"
    UNKNOWN_COUNTER = "UNKNOWN_COUNTER"
    UNKNOWN_POLICY = "UNKNOWN_POLICY"
    UNKNOWN_REGION = "UNKNOWN_REGION"
    UNKNOWN_QUEUE = "UNKNOWN_QUEUE"
    TYPE_ERROR = "TYPE_ERROR"
    BAD_REGEX = "BAD_REGEX"
    BAD_ACTION = "BAD_ACTION"
    BAD_ROLLOUT = "BAD_ROLLOUT"
    TOO_LARGE = "TOO_LARGE"


class RuleError(Exception):
    """Base of the rules language's errors. ``line``/``column`` are 1-based; 0 when the error has no position."""

    def __init__(self, code: RuleErrorCode, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(f"{message} (line {line}, column {column})" if line else message)
        self.code = code
        self.message = message
        self.line = line
        self.column = column

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value}, {self.message!r}, line={self.line}, column={self.column})"


class RuleSyntaxError(RuleError):
    """The rule text does not parse (code ``SYNTAX_ERROR``)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(RuleErrorCode.SYNTAX_ERROR, message, line, column)


class RuleDefinitionError(RuleError):
    """The rule parses but is refused: unknown names, type errors, bad regexes or actions."""
