"""The EU DSA transparency report (art. 15, 24): one region's figures over [from, to), the same figures as
`vigil report transparency` (JSON, HTML, CSV); how they are counted: ``persistence/queries/transparency.py``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import strawberry

from domain.region import Region
from persistence.queries.transparency import Row, TransparencyFigures


@strawberry.type(description="One row of a breakdown: its key (a category, source, Member State...) and count.")
class TransparencyCount:
    key: str
    count: int


def _rows(rows: list[Row]) -> list[TransparencyCount]:
    return [TransparencyCount(key=r.key, count=r.count) for r in rows]


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _count(name: str, description: str | None = None) -> Any:
    def resolve(self: TransparencyReport) -> int:
        return int(getattr(self.figures, name))

    return strawberry.field(resolver=resolve, description=description)


def _maybe(name: str, description: str | None = None) -> Any:
    def resolve(self: TransparencyReport) -> int | None:
        value = getattr(self.figures, name)
        return None if value is None else int(value)

    return strawberry.field(resolver=resolve, description=description)


def _hours(name: str, description: str | None = None) -> Any:
    def resolve(self: TransparencyReport) -> float | None:
        value = getattr(self.figures, name)
        return None if value is None else float(value)

    return strawberry.field(resolver=resolve, description=description)


def _breakdown(name: str, description: str | None = None) -> Any:
    def resolve(self: TransparencyReport) -> list[TransparencyCount]:
        return _rows(getattr(self.figures, name))

    return strawberry.field(resolver=resolve, description=description)


def _seconds(hours: Callable[[TransparencyFigures], float | None], replacement: str) -> Any:
    def resolve(self: TransparencyReport) -> float | None:
        value = hours(self.figures)
        return None if value is None else value * 3600

    return strawberry.field(resolver=resolve, deprecation_reason=f"Use {replacement} (hours).")


@strawberry.type(
    description="EU DSA transparency report figures for one region over [from, to), on the sections of the "
    "Commission's harmonised templates (Implementing Regulation (EU) 2024/2835). Times are medians in hours "
    "(disputes: days). Art. 16 notices are reports from users and trusted flaggers; each restriction is counted "
    "once per decision and type of restriction; warnings restrict nothing and are counted apart."
)
class TransparencyReport:
    figures: strawberry.Private[TransparencyFigures]
    region: Region
    from_: datetime = strawberry.field(name="from")
    to: datetime

    @strawberry.field(description="The first day of the period.")
    def period_start(self) -> date:
        return date.fromisoformat(self.figures.period_start)

    @strawberry.field(description="The last day of the period (its end is excluded from the window).")
    def period_end(self) -> date:
        return date.fromisoformat(self.figures.period_end)

    orders_act = _count("orders_act", "Orders to act against illegal content received (art. 9).")
    orders_act_by_member_state = _breakdown("orders_act_by_member_state")
    orders_act_by_category = _breakdown("orders_act_by_category")
    orders_act_median_hours_to_inform = _hours("orders_act_median_hours_to_inform")
    orders_act_median_hours_to_act = _hours("orders_act_median_hours_to_act")
    orders_information = _count("orders_information", "Orders to provide information received (art. 10).")
    orders_information_by_member_state = _breakdown("orders_information_by_member_state")
    orders_information_by_category = _breakdown("orders_information_by_category")
    orders_information_median_hours_to_inform = _hours("orders_information_median_hours_to_inform")
    orders_information_median_hours_to_act = _hours("orders_information_median_hours_to_act")

    notices = _count("notices", "Art. 16 notices received (users and trusted flaggers).")
    notices_by_category = _breakdown("notices_by_category", "By DSA category of the policy they cite.")
    notices_by_source = _breakdown("notices_by_source", "USER or TRUSTED_FLAGGER.")
    notices_by_member_state = _breakdown(
        "notices_by_member_state", "By the notifier's Member State: not recorded by Vigil, so one UNKNOWN row."
    )
    notices_handled_by_automated_means = _count(
        "notices_handled_by_automated_means", "Notices whose case was decided by automated means."
    )
    notice_restrictions_by_ground = _breakdown("notice_restrictions_by_ground")
    median_hours_notice_to_decision = _hours("median_hours_notice_to_decision")
    trusted_flagger_notices = _count("trusted_flagger_notices", "Notices from trusted flaggers (art. 22).")
    trusted_flagger_notices_by_category = _breakdown("trusted_flagger_notices_by_category")
    trusted_flagger_median_hours_notice_to_decision = _hours("trusted_flagger_median_hours_notice_to_decision")

    restrictions = _count("restrictions", "Restrictions applied, each once per decision and type of restriction.")
    restrictions_by_type = _breakdown("restrictions_by_type", "VISIBILITY, PROVISION or ACCOUNT.")
    restrictions_by_action = _breakdown("restrictions_by_action", "By measure (one per decision and kind).")
    restrictions_by_ground = _breakdown("restrictions_by_ground")
    restrictions_by_category = _breakdown("restrictions_by_category")
    restrictions_by_origin = _breakdown("restrictions_by_origin", "NOTICE, OTHER_NOTIFICATION or OWN_INITIATIVE.")
    warnings = _count("warnings", "Decisions that warned (a warning restricts nothing).")
    own_initiative_restrictions = _count("own_initiative_restrictions")
    own_initiative_by_category = _breakdown("own_initiative_by_category")
    own_initiative_by_detection = _breakdown("own_initiative_by_detection", "AUTOMATED or MANUAL.")
    own_initiative_by_type = _breakdown("own_initiative_by_type")
    own_initiative_by_ground = _breakdown("own_initiative_by_ground")

    complaints_received = _count("complaints_received", "Complaints (appeals) filed.")
    complaints_by_basis = _breakdown("complaints_by_basis", "By the ground of the contested decision.")
    complaints_decided = _count("complaints_decided")
    complaints_upheld = _count("complaints_upheld", "Decided complaints that left the decision in place.")
    complaints_overturned = _count("complaints_overturned", "Decided complaints that reversed the decision.")
    median_hours_to_decide_complaint = _hours("median_hours_to_decide_complaint")
    disputes_submitted = _count("disputes_submitted", "Out-of-court disputes submitted (art. 21).")
    disputes_closed_by_outcome = _breakdown("disputes_closed_by_outcome")
    disputes_implemented = _count("disputes_implemented")
    median_days_to_close_dispute = _hours("median_days_to_close_dispute", "In days.")
    suspensions_for_illegal_content = _count("suspensions_for_illegal_content", "Account suspensions (art. 23(1)).")
    suspensions_for_unfounded_notices = _maybe(
        "suspensions_for_unfounded_notices", "Null: Vigil does not suspend the handling of notices (art. 23(2))."
    )
    suspensions_for_unfounded_complaints = _maybe("suspensions_for_unfounded_complaints", "Null, as above.")

    violating_decisions = _count("violating_decisions", "Decisions that found a violation.")
    automated_detection = _count("automated_detection", "Of those, detected by automated means.")
    automated_decisions = _count("automated_decisions", "Of those, decided by automated means.")
    automated_decisions_qa_reviewed = _count("automated_decisions_qa_reviewed")
    automated_decisions_qa_disagreed = _count("automated_decisions_qa_disagreed")
    automated_decisions_appealed = _count("automated_decisions_appealed")
    automated_decisions_overturned = _count("automated_decisions_overturned")

    average_monthly_active_recipients = _maybe(
        "average_monthly_active_recipients", "From the platform's monthly figures (recordActiveRecipients)."
    )
    average_monthly_active_recipients_by_member_state = _breakdown("average_monthly_active_recipients_by_member_state")

    @strawberry.field(description="% of violating decisions detected by automated means.")
    def automated_detection_percent(self) -> float | None:
        return _share(self.figures.automated_detection, self.figures.violating_decisions)

    @strawberry.field(description="% of violating decisions decided by automated means.")
    def automated_decision_percent(self) -> float | None:
        return _share(self.figures.automated_decisions, self.figures.violating_decisions)

    @strawberry.field(deprecation_reason="Use restrictions (each restriction once; warnings apart).")
    def actions(self) -> int:
        return self.figures.restrictions

    @strawberry.field(deprecation_reason="Use restrictionsByAction.")
    def actions_by_type(self) -> list[TransparencyCount]:
        return _rows(self.figures.restrictions_by_action)

    @strawberry.field(deprecation_reason="Use restrictionsByGround.")
    def actions_by_ground(self) -> list[TransparencyCount]:
        return _rows(self.figures.restrictions_by_ground)

    @strawberry.field(deprecation_reason="Use restrictionsByCategory.")
    def actions_by_category(self) -> list[TransparencyCount]:
        return _rows(self.figures.restrictions_by_category)

    median_notice_to_action_seconds = _seconds(
        lambda f: f.median_hours_notice_to_decision, "medianHoursNoticeToDecision"
    )
    trusted_flagger_median_notice_to_action_seconds = _seconds(
        lambda f: f.trusted_flagger_median_hours_notice_to_decision, "trustedFlaggerMedianHoursNoticeToDecision"
    )
    median_complaint_decision_seconds = _seconds(
        lambda f: f.median_hours_to_decide_complaint, "medianHoursToDecideComplaint"
    )
