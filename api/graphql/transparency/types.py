"""The EU DSA transparency report (art. 15, 24): one region's figures over [from, to)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.region import Region
from persistence.queries.transparency import Row, TransparencyFigures


@strawberry.type(description="One row of a breakdown: its key (a category, source, action kind...) and count.")
class TransparencyCount:
    key: str
    count: int


def _rows(rows: list[Row]) -> list[TransparencyCount]:
    return [TransparencyCount(key=r.key, count=r.count) for r in rows]


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


@strawberry.type(
    description="EU DSA transparency report figures for one region over [from, to) (`vigil report transparency` "
    "renders the same figures as JSON or HTML). Times are in seconds."
)
class TransparencyReport:
    figures: strawberry.Private[TransparencyFigures]
    region: Region
    from_: datetime = strawberry.field(name="from")
    to: datetime

    @strawberry.field(description="Notices (reports) received.")
    def notices(self) -> int:
        return self.figures.notices

    @strawberry.field(description="By DSA category of the policy they cite.")
    def notices_by_category(self) -> list[TransparencyCount]:
        return _rows(self.figures.notices_by_category)

    @strawberry.field(description="By source (USER: art. 16 notices, TRUSTED_FLAGGER, AUTOMATED, ...).")
    def notices_by_source(self) -> list[TransparencyCount]:
        return _rows(self.figures.notices_by_source)

    @strawberry.field(description="By the notifier's member state: not recorded by Vigil, so one UNKNOWN row.")
    def notices_by_member_state(self) -> list[TransparencyCount]:
        return _rows(self.figures.notices_by_member_state)

    @strawberry.field(description="Enforcement actions applied.")
    def actions(self) -> int:
        return self.figures.actions

    @strawberry.field
    def actions_by_type(self) -> list[TransparencyCount]:
        return _rows(self.figures.actions_by_type)

    @strawberry.field(description="By decision ground (illegal content / incompatible with the terms).")
    def actions_by_ground(self) -> list[TransparencyCount]:
        return _rows(self.figures.actions_by_ground)

    @strawberry.field
    def actions_by_category(self) -> list[TransparencyCount]:
        return _rows(self.figures.actions_by_category)

    @strawberry.field(description="Decisions that found a violation.")
    def violating_decisions(self) -> int:
        return self.figures.violating_decisions

    @strawberry.field(description="% of those detected by automated means.")
    def automated_detection_percent(self) -> float | None:
        return _share(self.figures.automated_detection, self.figures.violating_decisions)

    @strawberry.field(description="% of those decided by automated means.")
    def automated_decision_percent(self) -> float | None:
        return _share(self.figures.automated_decisions, self.figures.violating_decisions)

    @strawberry.field(description="Median time from the first notice on a case to its violating decision.")
    def median_notice_to_action_seconds(self) -> float | None:
        return self.figures.median_notice_to_action_seconds

    @strawberry.field(description="Complaints (appeals) received.")
    def complaints_received(self) -> int:
        return self.figures.complaints_received

    @strawberry.field
    def complaints_decided(self) -> int:
        return self.figures.complaints_decided

    @strawberry.field(description="Decided complaints that reversed the decision.")
    def complaints_overturned(self) -> int:
        return self.figures.complaints_overturned

    @strawberry.field
    def median_complaint_decision_seconds(self) -> float | None:
        return self.figures.median_complaint_decision_seconds

    @strawberry.field(description="Notices from trusted flaggers (art. 22), counted apart.")
    def trusted_flagger_notices(self) -> int:
        return self.figures.trusted_flagger_notices

    @strawberry.field
    def trusted_flagger_notices_by_category(self) -> list[TransparencyCount]:
        return _rows(self.figures.trusted_flagger_notices_by_category)

    @strawberry.field
    def trusted_flagger_median_notice_to_action_seconds(self) -> float | None:
        return self.figures.trusted_flagger_median_notice_to_action_seconds
