"""Transparency report figures (EU DSA art. 15 and 24) for one region over [start, end): each figure is one
set-based SQL aggregate, whatever the volume.

- notices: reports received in the window, by DSA category (of the policy version in force when counted), by
  source and by member state. Vigil records no notifier's member state, so that breakdown is one ``UNKNOWN`` row
  (kept so the report's shape says what is missing).
- actions: enforcement actions applied in the window, by type, by ground (from the decision's statement of
  reasons; decisions without one are on the terms-and-conditions ground, the only one Vigil decides on) and by
  category (of the cited policy version).
- automation: of the window's VIOLATING decisions, how many were detected by automated means (the case's most
  trusted source is a classifier, or the decision is automated) and how many were decided by automated means.
- median time from notice to action: first report of the case to its VIOLATING decision, in seconds.
- complaints: appeals filed in the window; of those decided in it, how many and how many overturned; the median
  time to decide them.
- trusted flaggers: their notices counted apart, by category, and the median time from their notice to action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.tables.cases import cases, reports
from persistence.tables.outcomes import appeals, decisions, enforcement_actions, statements_of_reasons
from persistence.tables.policies import policies, policy_versions

INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Row:
    key: str
    count: int


@dataclass
class TransparencyFigures:
    region: str
    start: datetime
    end: datetime
    notices: int = 0
    notices_by_category: list[Row] = field(default_factory=list)
    notices_by_source: list[Row] = field(default_factory=list)
    notices_by_member_state: list[Row] = field(default_factory=list)
    actions: int = 0
    actions_by_type: list[Row] = field(default_factory=list)
    actions_by_ground: list[Row] = field(default_factory=list)
    actions_by_category: list[Row] = field(default_factory=list)
    violating_decisions: int = 0
    automated_detection: int = 0
    automated_decisions: int = 0
    median_notice_to_action_seconds: float | None = None
    complaints_received: int = 0
    complaints_decided: int = 0
    complaints_overturned: int = 0
    median_complaint_decision_seconds: float | None = None
    trusted_flagger_notices: int = 0
    trusted_flagger_notices_by_category: list[Row] = field(default_factory=list)
    trusted_flagger_median_notice_to_action_seconds: float | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
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


def _category() -> tuple[sa.FromClause, sa.ColumnElement[Any]]:
    """Reports joined to the version in force of the policy they cite (its DSA category)."""
    joined = reports.join(policies, policies.c.id == reports.c.policy_id).join(
        policy_versions,
        sa.and_(policy_versions.c.policy_id == policies.c.id, policy_versions.c.number == policies.c.current_version),
    )
    return joined, policy_versions.c.dsa_category


async def _notices(session: AsyncSession, f: TransparencyFigures, trusted: bool) -> None:
    r = reports.c
    where = [r.region == f.region, r.created_at >= f.start, r.created_at < f.end]
    if trusted:
        where.append(r.source == "TRUSTED_FLAGGER")
    joined, category = _category()
    by_category = _rows(
        await session.execute(
            sa.select(category, sa.func.count()).select_from(joined).where(*where).group_by(category).order_by(category)
        )
    )
    total = sum(row.count for row in by_category)
    if trusted:
        f.trusted_flagger_notices, f.trusted_flagger_notices_by_category = total, by_category
        return
    f.notices, f.notices_by_category = total, by_category
    f.notices_by_source = _rows(
        await session.execute(sa.select(r.source, sa.func.count()).where(*where).group_by(r.source).order_by(r.source))
    )
    f.notices_by_member_state = [Row(UNKNOWN, total)] if total else []


async def _actions(session: AsyncSession, f: TransparencyFigures) -> None:
    a, d = enforcement_actions.c, decisions.c
    joined = (
        enforcement_actions.join(decisions, d.id == a.decision_id)
        .outerjoin(policy_versions, policy_versions.c.id == d.policy_version_id)
        .outerjoin(statements_of_reasons, statements_of_reasons.c.decision_id == d.id)
    )
    where = [a.region == f.region, a.created_at >= f.start, a.created_at < f.end]
    ground = sa.func.coalesce(statements_of_reasons.c.fields["decision_ground"].astext, INCOMPATIBLE)
    category = sa.func.coalesce(policy_versions.c.dsa_category, UNKNOWN)
    for column, target in (
        (a.kind, "actions_by_type"),
        (ground, "actions_by_ground"),
        (category, "actions_by_category"),
    ):
        label = column.label("key")
        stmt = sa.select(label, sa.func.count()).select_from(joined).where(*where).group_by(label).order_by(label)
        setattr(f, target, _rows(await session.execute(stmt)))
    f.actions = sum(row.count for row in f.actions_by_type)


def _first_notice() -> sa.ColumnElement[Any]:
    return (
        sa.select(sa.func.min(reports.c.created_at)).where(reports.c.case_id == decisions.c.case_id).scalar_subquery()
    )


def _median(seconds: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.func.percentile_cont(0.5).within_group(seconds)


async def _decisions(session: AsyncSession, f: TransparencyFigures) -> None:
    d, c = decisions.c, cases.c
    where = [d.region == f.region, d.decided_at >= f.start, d.decided_at < f.end, d.verdict == "VIOLATING"]
    waited = sa.func.extract("epoch", d.decided_at - _first_notice())
    detected = sa.or_(d.automated, c.top_source == "AUTOMATED")
    stmt = (
        sa.select(
            sa.func.count(),
            sa.func.count().filter(detected),
            sa.func.count().filter(d.automated),
            _median(waited),
        )
        .select_from(decisions.join(cases, c.id == d.case_id))
        .where(*where)
    )
    total, by_machine, automated, median = (await session.execute(stmt)).one()
    f.violating_decisions, f.automated_detection, f.automated_decisions = int(total), int(by_machine), int(automated)
    f.median_notice_to_action_seconds = None if median is None else float(median)
    flagged = sa.exists().where(reports.c.case_id == d.case_id, reports.c.source == "TRUSTED_FLAGGER")
    first_flag = (
        sa.select(sa.func.min(reports.c.created_at))
        .where(reports.c.case_id == d.case_id, reports.c.source == "TRUSTED_FLAGGER")
        .scalar_subquery()
    )
    stmt = sa.select(_median(sa.func.extract("epoch", d.decided_at - first_flag))).where(*where, flagged)
    median = (await session.execute(stmt)).scalar_one()
    f.trusted_flagger_median_notice_to_action_seconds = None if median is None else float(median)


async def _complaints(session: AsyncSession, f: TransparencyFigures) -> None:
    ap = appeals.c
    in_region = ap.region == f.region
    filed = (await session.execute(
        sa.select(sa.func.count()).where(in_region, ap.filed_at >= f.start, ap.filed_at < f.end)
    )).scalar_one()  # fmt: skip
    decided_in = [in_region, ap.decided_at >= f.start, ap.decided_at < f.end]
    stmt = sa.select(
        sa.func.count(),
        sa.func.count().filter(ap.state == "OVERTURNED"),
        _median(sa.func.extract("epoch", ap.decided_at - ap.filed_at)),
    ).where(*decided_in)
    decided, overturned, median = (await session.execute(stmt)).one()
    f.complaints_received, f.complaints_decided, f.complaints_overturned = int(filed), int(decided), int(overturned)
    f.median_complaint_decision_seconds = None if median is None else float(median)


async def transparency_figures(
    session: AsyncSession, region: str, start: datetime, end: datetime
) -> TransparencyFigures:
    figures = TransparencyFigures(region=region, start=start, end=end)
    await _notices(session, figures, trusted=False)
    await _notices(session, figures, trusted=True)
    await _actions(session, figures)
    await _decisions(session, figures)
    await _complaints(session, figures)
    return figures
