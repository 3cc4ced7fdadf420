"""Inputs and input parsing more than one area takes: the actions a decision asks for (`decideCase`,
`bulkDecideCases`, automation rules) and the subject a report or a signal is about."""

from __future__ import annotations

import strawberry

from api.graphql.ids import parse_any
from domain.enforcement import ActionKind
from domain.errors import DomainError
from domain.subject import SubjectKind


@strawberry.input(description="An action the decider asks for; durationDays null means permanent where allowed.")
class ActionInput:
    kind: ActionKind
    duration_days: int | None = None


SUBJECT_KINDS = {"Account": SubjectKind.ACCOUNT, "Content": SubjectKind.CONTENT, "Ad": SubjectKind.AD}


def subject_type(global_id: str, prefix: str) -> str:
    """The type name of a subject's global ID (Account, Content or Ad); `prefix` leads the field an error names."""
    parsed = parse_any(global_id)
    if parsed is None or parsed[0] not in SUBJECT_KINDS:
        raise DomainError.invalid_input("`subjectId` must be the ID of an Account, Content or Ad", f"{prefix}subjectId")
    return parsed[0]
