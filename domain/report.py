"""Report aggregate: someone says a subject breaks a policy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.actor import Actor, ActorKind
from domain.region import Region
from domain.subject import Subject, SubjectKind


class ReportSource(StrEnum):
    USER = "USER"
    TRUSTED_FLAGGER = "TRUSTED_FLAGGER"
    AUTOMATED = "AUTOMATED"
    INTERNAL = "INTERNAL"
    LEGAL = "LEGAL"


@dataclass(kw_only=True)
class Report:
    """Region = the subject's region. ``reporter_id`` / ``reporter_kind`` are the submitting actor's id / kind.

    ``idempotency_key`` is unique per ``reporter_id`` when set. ``case_id`` is the case it folded into.
    Reports are immutable once filed.
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    source: ReportSource
    reporter_id: str
    reporter_kind: ActorKind
    policy_id: uuid.UUID
    text: str | None = None
    idempotency_key: str | None = None
    case_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def file(
        cls,
        *,
        subject: Subject,
        reporter: Actor,
        source: ReportSource,
        policy_id: uuid.UUID,
        text: str | None,
        idempotency_key: str | None,
        case_id: uuid.UUID,
        now: datetime,
    ) -> Report:
        return cls(
            region=subject.region,
            subject_kind=subject.kind,
            subject_id=subject.id,
            source=source,
            reporter_id=reporter.id,
            reporter_kind=reporter.kind,
            policy_id=policy_id,
            text=text,
            idempotency_key=idempotency_key,
            case_id=case_id,
            created_at=now,
            updated_at=now,
        )
