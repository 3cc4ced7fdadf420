"""The audit trail's filter and the result of re-checking its hash chain."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.errors import BadRequest
from api.graphql.ids import parse_any
from api.graphql.shared.history import BigInt
from persistence import audit
from persistence.queries.audit import AuditFilter


@strawberry.input(description="Every given condition must hold. Time bounds: `since` inclusive, `until` exclusive.")
class AuditEventFilter:
    actor_id: str | None = None
    actor_kind: str | None = None
    subject: strawberry.ID | None = strawberry.field(default=None, description="Global ID of the subject.")
    subject_kind: str | None = None
    action: str | None = None
    region: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def to_filter(self) -> AuditFilter:
        subject_kind, subject_id = self.subject_kind, None
        if self.subject is not None:
            parsed = parse_any(str(self.subject))
            if parsed is None:
                raise BadRequest("`filter.subject` is not a valid ID", field="filter.subject")
            subject_kind, subject_id = parsed
        return AuditFilter(
            actor_id=self.actor_id,
            actor_kind=self.actor_kind,
            subject_kind=subject_kind,
            subject_id=subject_id,
            action=self.action,
            region=self.region,
            since=self.since,
            until=self.until,
        )


@strawberry.type(description="The result of re-checking the whole hash chain.")
class AuditTrailVerification:
    ok: bool
    events_checked: BigInt
    first_broken_sequence: BigInt | None = strawberry.field(description="The first event that fails, if any.")
    problem: str | None
    head_position: BigInt = strawberry.field(description="Seals checked; compare with a copy kept elsewhere.")
    head_hash: str = strawberry.field(description="Chain hash at the head; compare with a copy kept elsewhere.")
    unsealed_events: BigInt = strawberry.field(description="Events written but not chained yet (sealed within ~2 s).")


def verification(result: audit.VerifyResult) -> AuditTrailVerification:
    return AuditTrailVerification(
        ok=result.ok,
        events_checked=result.events_checked,
        first_broken_sequence=result.first_broken_seq,
        problem=result.problem,
        head_position=result.head_position,
        head_hash=result.head_hash,
        unsealed_events=result.unsealed,
    )
