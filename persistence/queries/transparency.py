"""Transparency report figures (EU DSA art. 15(1), 24(1) and 24(2)) for one region over [start, end): each figure
is one set-based SQL aggregate, whatever the volume. Times are medians in hours.

How things are counted:

- **Notices** (art. 16) are reports from users and trusted flaggers received in the window. Classifier reports
  (``AUTOMATED``), staff flags (``INTERNAL``) and enforcement-rule hits are the platform's own initiative, and
  ``LEGAL`` reports are other notifications: neither is an art. 16 notice. The notifier's Member State is not
  recorded, so notices by Member State are one ``UNKNOWN`` row.
- **Restrictions** ("actions taken"): the enforcement actions applied in the window that restrict something. A
  warning restricts nothing and is counted apart (``warnings``). Each restriction is counted once: one per
  decision and type of restriction (visibility, service provision, account: the statement of reasons' own
  classes), so a removal plus a ladder ban is two, and a requested suspension plus the ladder's suspension on one
  decision is one. ``restrictions_by_action`` counts kinds the same way (one per decision and kind).
- A restriction's **origin**: ``NOTICE`` when its case holds an art. 16 notice, ``OTHER_NOTIFICATION`` when only a
  ``LEGAL`` report, else ``OWN_INITIATIVE``; own-initiative ones are broken down by **detection**: ``AUTOMATED``
  (a classifier report or rule hit on the case, or an automated decision) or ``MANUAL``.
- **Ground**: from the decision's statement of reasons; decisions without one are on the terms-and-conditions
  ground, the only one Vigil decides on. **Category**: of the cited policy version.
- **Complaints** (art. 20) are appeals: filed in the window (by the ground of the contested decision), decided in
  the window (upheld or overturned, median time). **Out-of-court disputes** (art. 21) and **orders** (art. 9, 10)
  are the recorded ones (``domain/dsa/out_of_court_dispute.py``, ``domain/dsa/authority_order.py``).
- **Art. 23 suspensions**: account suspensions applied in the window (one per decision). Vigil never suspends the
  handling of a notifier's notices or a complainant's complaints, so those two figures are ``None``.
- **Automated means**: of the window's violating decisions, those detected and those decided by automated means;
  of the automated decisions, how many QA reviewed and found wrong, how many were appealed and overturned.
- **Monthly active recipients**: the platform's figures for the months that begin in the window, averaged per
  Member State; the Union figure is the average over those months of the Member States' sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dsa.statement import ACCOUNT, PROVISION, VISIBILITY
from domain.enforcement import ActionKind
from persistence.tables.cases import reports
from persistence.tables.dsa_reporting import active_recipients, authority_orders, out_of_court_disputes
from persistence.tables.operations import qa_reviews
from persistence.tables.outcomes import appeals, decisions, enforcement_actions, statements_of_reasons
from persistence.tables.policies import policies, policy_versions

INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
UNKNOWN = "UNKNOWN"
ART_16 = ("USER", "TRUSTED_FLAGGER")
OTHER_NOTIFICATION = ("LEGAL",)
#: The statement of reasons' classes of restriction, by action kind (a WARN is in none).
RESTRICTION: dict[str, str] = {
    **{k.value: "VISIBILITY" for k in VISIBILITY},
    **{k.value: "PROVISION" for k in PROVISION},
    **{k.value: "ACCOUNT" for k in ACCOUNT},
}
ORDER_KINDS = (("act", "ACT_AGAINST_ILLEGAL_CONTENT"), ("information", "PROVIDE_INFORMATION"))
HOUR = 3600.0


@dataclass(frozen=True)
class Row:
    key: str
    count: int


@dataclass
class TransparencyFigures:
    region: str
    start: datetime
    end: datetime
    # art. 9 and 10 orders
    orders_act: int = 0
    orders_act_by_member_state: list[Row] = field(default_factory=list)
    orders_act_by_category: list[Row] = field(default_factory=list)
    orders_act_median_hours_to_inform: float | None = None
    orders_act_median_hours_to_act: float | None = None
    orders_information: int = 0
    orders_information_by_member_state: list[Row] = field(default_factory=list)
    orders_information_by_category: list[Row] = field(default_factory=list)
    orders_information_median_hours_to_inform: float | None = None
    orders_information_median_hours_to_act: float | None = None
    # art. 16 notices
    notices: int = 0
    notices_by_category: list[Row] = field(default_factory=list)
    notices_by_source: list[Row] = field(default_factory=list)
    notices_by_member_state: list[Row] = field(default_factory=list)
    notices_handled_by_automated_means: int = 0
    notice_restrictions_by_ground: list[Row] = field(default_factory=list)
    median_hours_notice_to_decision: float | None = None
    trusted_flagger_notices: int = 0
    trusted_flagger_notices_by_category: list[Row] = field(default_factory=list)
    trusted_flagger_median_hours_notice_to_decision: float | None = None
    # restrictions ("actions taken"), and own-initiative moderation
    restrictions: int = 0
    restrictions_by_type: list[Row] = field(default_factory=list)
    restrictions_by_action: list[Row] = field(default_factory=list)
    restrictions_by_ground: list[Row] = field(default_factory=list)
    restrictions_by_category: list[Row] = field(default_factory=list)
    restrictions_by_origin: list[Row] = field(default_factory=list)
    warnings: int = 0
    own_initiative_restrictions: int = 0
    own_initiative_by_category: list[Row] = field(default_factory=list)
    own_initiative_by_detection: list[Row] = field(default_factory=list)
    own_initiative_by_type: list[Row] = field(default_factory=list)
    own_initiative_by_ground: list[Row] = field(default_factory=list)
    # complaints (art. 20), out-of-court disputes (art. 21), suspensions (art. 23)
    complaints_received: int = 0
    complaints_by_basis: list[Row] = field(default_factory=list)
    complaints_decided: int = 0
    complaints_upheld: int = 0
    complaints_overturned: int = 0
    median_hours_to_decide_complaint: float | None = None
    disputes_submitted: int = 0
    disputes_closed_by_outcome: list[Row] = field(default_factory=list)
    disputes_implemented: int = 0
    median_days_to_close_dispute: float | None = None
    suspensions_for_illegal_content: int = 0
    suspensions_for_unfounded_notices: int | None = None
    suspensions_for_unfounded_complaints: int | None = None
    # automated means
    violating_decisions: int = 0
    automated_detection: int = 0
    automated_decisions: int = 0
    automated_decisions_qa_reviewed: int = 0
    automated_decisions_qa_disagreed: int = 0
    automated_decisions_appealed: int = 0
    automated_decisions_overturned: int = 0
    # art. 24(2)
    average_monthly_active_recipients: int | None = None
    average_monthly_active_recipients_by_member_state: list[Row] = field(default_factory=list)

    @property
    def period_start(self) -> str:
        return self.start.date().isoformat()

    @property
    def period_end(self) -> str:
        """The last day the window covers (its end is excluded)."""
        return (self.end - timedelta(microseconds=1)).date().isoformat()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"period_start": self.period_start, "period_end": self.period_end}
        for name, value in vars(self).items():
            if isinstance(value, datetime):
                out[name] = value.isoformat()
            elif isinstance(value, list):
                out[name] = [{"key": r.key, "count": r.count} for r in value]
            else:
                out[name] = value
        return out


def _rows(result: Any) -> list[Row]:
    return [Row(str(k), int(n)) for k, n in result.all()]


def _hours(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / HOUR, 2)


def _median(seconds: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.func.percentile_cont(0.5).within_group(seconds)


def _epoch(interval: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.func.extract("epoch", interval)


async def _grouped(session: AsyncSession, source: Any, column: Any, *where: Any) -> list[Row]:
    label = column.label("key")
    stmt = sa.select(label, sa.func.count()).select_from(source).where(*where).group_by(label).order_by(label)
    return _rows(await session.execute(stmt))


# -- orders ----------------------------------------------------------------------------------------------------


async def _orders(session: AsyncSession, f: TransparencyFigures) -> None:
    o = authority_orders.c
    window = [o.region == f.region, o.received_at >= f.start, o.received_at < f.end]
    for name, kind in ORDER_KINDS:
        where = [*window, o.kind == kind]
        stmt = sa.select(
            sa.func.count(),
            _median(_epoch(o.informed_at - o.received_at)),
            _median(_epoch(o.acted_at - o.received_at)),
        ).where(*where)
        total, inform, act = (await session.execute(stmt)).one()
        setattr(f, f"orders_{name}", int(total))
        setattr(f, f"orders_{name}_median_hours_to_inform", _hours(inform))
        setattr(f, f"orders_{name}_median_hours_to_act", _hours(act))
        setattr(f, f"orders_{name}_by_member_state", await _grouped(session, authority_orders, o.member_state, *where))
        setattr(f, f"orders_{name}_by_category", await _grouped(session, authority_orders, o.category, *where))


# -- notices ---------------------------------------------------------------------------------------------------


def _with_category() -> tuple[sa.FromClause, sa.ColumnElement[Any]]:
    """Reports joined to the version in force of the policy they cite (its DSA category)."""
    joined = reports.join(policies, policies.c.id == reports.c.policy_id).join(
        policy_versions,
        sa.and_(policy_versions.c.policy_id == policies.c.id, policy_versions.c.number == policies.c.current_version),
    )
    return joined, policy_versions.c.dsa_category


def _first_report(*sources: str) -> sa.ColumnElement[Any]:
    r = reports.c
    return (
        sa.select(sa.func.min(r.created_at))
        .where(r.case_id == decisions.c.case_id, r.source.in_(sources))
        .scalar_subquery()
    )


async def _notices(session: AsyncSession, f: TransparencyFigures) -> None:
    r, d = reports.c, decisions.c
    window = [r.region == f.region, r.created_at >= f.start, r.created_at < f.end]
    notices = [*window, r.source.in_(ART_16)]
    joined, category = _with_category()
    f.notices_by_category = await _grouped(session, joined, category, *notices)
    f.notices = sum(row.count for row in f.notices_by_category)
    f.notices_by_source = await _grouped(session, reports, r.source, *notices)
    f.notices_by_member_state = [Row(UNKNOWN, f.notices)] if f.notices else []
    flagged = [*window, r.source == "TRUSTED_FLAGGER"]
    f.trusted_flagger_notices_by_category = await _grouped(session, joined, category, *flagged)
    f.trusted_flagger_notices = sum(row.count for row in f.trusted_flagger_notices_by_category)
    automated = sa.exists().where(d.case_id == r.case_id, d.automated)
    stmt = sa.select(sa.func.count()).where(*notices, automated)
    f.notices_handled_by_automated_means = int((await session.execute(stmt)).scalar_one())

    decided = [d.region == f.region, d.decided_at >= f.start, d.decided_at < f.end]
    for sources, target in ((ART_16, "median_hours_notice_to_decision"),
                            (("TRUSTED_FLAGGER",), "trusted_flagger_median_hours_notice_to_decision")):  # fmt: skip
        first = _first_report(*sources)
        stmt = sa.select(_median(_epoch(d.decided_at - first))).where(*decided, first.is_not(None))
        setattr(f, target, _hours((await session.execute(stmt)).scalar_one()))


# -- restrictions ----------------------------------------------------------------------------------------------


def _origin() -> sa.ColumnElement[Any]:
    r = reports.c
    case_id = decisions.c.case_id
    notice = sa.exists().where(r.case_id == case_id, r.source.in_(ART_16))
    other = sa.exists().where(r.case_id == case_id, r.source.in_(OTHER_NOTIFICATION))
    return sa.case((notice, "NOTICE"), (other, "OTHER_NOTIFICATION"), else_="OWN_INITIATIVE")


def _detection() -> sa.ColumnElement[Any]:
    r = reports.c
    machine = sa.exists().where(r.case_id == decisions.c.case_id, r.source == "AUTOMATED")
    return sa.case((sa.or_(decisions.c.automated, machine), "AUTOMATED"), else_="MANUAL")


def _restricting(f: TransparencyFigures, by: sa.ColumnElement[Any]) -> sa.Subquery:
    """One row per decision and ``by`` (the class of restriction, or the action kind) among the window's
    restricting actions, with the decision's ground, category, origin and detection."""
    a, d = enforcement_actions.c, decisions.c
    joined = (
        enforcement_actions.join(decisions, d.id == a.decision_id)
        .outerjoin(policy_versions, policy_versions.c.id == d.policy_version_id)
        .outerjoin(statements_of_reasons, statements_of_reasons.c.decision_id == d.id)
    )
    ground = sa.func.coalesce(statements_of_reasons.c.fields["decision_ground"].astext, INCOMPATIBLE)
    return (
        sa.select(
            a.decision_id,
            by.label("key"),
            ground.label("ground"),
            sa.func.coalesce(policy_versions.c.dsa_category, UNKNOWN).label("category"),
            _origin().label("origin"),
            _detection().label("detection"),
        )
        .select_from(joined)
        .where(a.region == f.region, a.created_at >= f.start, a.created_at < f.end, a.kind.in_(list(RESTRICTION)))
        .distinct()
        .subquery()
    )


async def _restrictions(session: AsyncSession, f: TransparencyFigures) -> None:
    a = enforcement_actions.c
    by_class = _restricting(f, sa.case(RESTRICTION, value=a.kind))
    r = by_class.c
    f.restrictions_by_type = await _grouped(session, by_class, r.key)
    f.restrictions = sum(row.count for row in f.restrictions_by_type)
    by_kind = _restricting(f, a.kind)
    f.restrictions_by_action = await _grouped(session, by_kind, by_kind.c.key)
    f.restrictions_by_ground = await _grouped(session, by_class, r.ground)
    f.restrictions_by_category = await _grouped(session, by_class, r.category)
    f.restrictions_by_origin = await _grouped(session, by_class, r.origin)
    f.notice_restrictions_by_ground = await _grouped(session, by_class, r.ground, r.origin == "NOTICE")
    own = r.origin == "OWN_INITIATIVE"
    f.own_initiative_by_type = await _grouped(session, by_class, r.key, own)
    f.own_initiative_restrictions = sum(row.count for row in f.own_initiative_by_type)
    f.own_initiative_by_category = await _grouped(session, by_class, r.category, own)
    f.own_initiative_by_detection = await _grouped(session, by_class, r.detection, own)
    f.own_initiative_by_ground = await _grouped(session, by_class, r.ground, own)
    window = [a.region == f.region, a.created_at >= f.start, a.created_at < f.end]
    for kind, target in (
        (ActionKind.WARN, "warnings"),
        (ActionKind.SUSPEND_ACCOUNT, "suspensions_for_illegal_content"),
    ):
        stmt = sa.select(sa.func.count(sa.distinct(a.decision_id))).where(*window, a.kind == kind.value)
        setattr(f, target, int((await session.execute(stmt)).scalar_one()))


# -- automated means -------------------------------------------------------------------------------------------


async def _automation(session: AsyncSession, f: TransparencyFigures) -> None:
    d, q = decisions.c, qa_reviews.c
    where = [d.region == f.region, d.decided_at >= f.start, d.decided_at < f.end, d.verdict == "VIOLATING"]
    reviewed = sa.exists().where(q.decision_id == d.id)
    disagreed = sa.exists().where(q.decision_id == d.id, q.outcome == "DISAGREE")
    appealed = sa.exists().where(appeals.c.decision_id == d.id)
    stmt = sa.select(
        sa.func.count(),
        sa.func.count().filter(_detection() == "AUTOMATED"),
        sa.func.count().filter(d.automated),
        sa.func.count().filter(d.automated, reviewed),
        sa.func.count().filter(d.automated, disagreed),
        sa.func.count().filter(d.automated, appealed),
        sa.func.count().filter(d.automated, d.overturned_at.is_not(None)),
    ).where(*where)
    row = (await session.execute(stmt)).one()
    (
        f.violating_decisions,
        f.automated_detection,
        f.automated_decisions,
        f.automated_decisions_qa_reviewed,
        f.automated_decisions_qa_disagreed,
        f.automated_decisions_appealed,
        f.automated_decisions_overturned,
    ) = (int(n) for n in row)


# -- complaints, disputes --------------------------------------------------------------------------------------


async def _complaints(session: AsyncSession, f: TransparencyFigures) -> None:
    ap = appeals.c
    filed = [ap.region == f.region, ap.filed_at >= f.start, ap.filed_at < f.end]
    contested = appeals.outerjoin(statements_of_reasons, statements_of_reasons.c.decision_id == ap.decision_id)
    ground = sa.func.coalesce(statements_of_reasons.c.fields["decision_ground"].astext, INCOMPATIBLE)
    f.complaints_by_basis = await _grouped(session, contested, ground, *filed)
    f.complaints_received = sum(row.count for row in f.complaints_by_basis)
    stmt = sa.select(
        sa.func.count(),
        sa.func.count().filter(ap.state == "UPHELD"),
        sa.func.count().filter(ap.state == "OVERTURNED"),
        _median(_epoch(ap.decided_at - ap.filed_at)),
    ).where(ap.region == f.region, ap.decided_at >= f.start, ap.decided_at < f.end)
    decided, upheld, overturned, median = (await session.execute(stmt)).one()
    f.complaints_decided, f.complaints_upheld, f.complaints_overturned = int(decided), int(upheld), int(overturned)
    f.median_hours_to_decide_complaint = _hours(median)


async def _disputes(session: AsyncSession, f: TransparencyFigures) -> None:
    o = out_of_court_disputes.c
    stmt = sa.select(sa.func.count()).where(o.region == f.region, o.submitted_at >= f.start, o.submitted_at < f.end)
    f.disputes_submitted = int((await session.execute(stmt)).scalar_one())
    closed = [o.region == f.region, o.closed_at >= f.start, o.closed_at < f.end]
    f.disputes_closed_by_outcome = await _grouped(session, out_of_court_disputes, o.outcome, *closed)
    settled = sa.select(sa.func.count().filter(o.implemented), _median(_epoch(o.closed_at - o.submitted_at)))
    implemented, median = (await session.execute(settled.where(*closed))).one()
    f.disputes_implemented = int(implemented)
    f.median_days_to_close_dispute = None if median is None else round(float(median) / (24 * HOUR), 2)


# -- monthly active recipients ---------------------------------------------------------------------------------


async def _recipients(session: AsyncSession, f: TransparencyFigures) -> None:
    m = active_recipients.c
    where = [m.region == f.region, m.month >= f.start, m.month < f.end]
    stmt = (
        sa.select(m.member_state, sa.func.round(sa.func.avg(m.recipients)))
        .where(*where)
        .group_by(m.member_state)
        .order_by(m.member_state)
    )
    f.average_monthly_active_recipients_by_member_state = _rows(await session.execute(stmt))
    monthly = sa.select(sa.func.sum(m.recipients).label("total")).where(*where).group_by(m.month).subquery()
    union = (await session.execute(sa.select(sa.func.round(sa.func.avg(monthly.c.total))))).scalar_one()
    f.average_monthly_active_recipients = None if union is None else int(union)


async def transparency_figures(
    session: AsyncSession, region: str, start: datetime, end: datetime
) -> TransparencyFigures:
    figures = TransparencyFigures(region=region, start=start, end=end)
    for part in (_orders, _notices, _restrictions, _automation, _complaints, _disputes, _recipients):
        await part(session, figures)
    return figures
