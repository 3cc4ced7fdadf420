"""Cases waiting outside any queue (for `rerouteCases`): open, unqueued, in one region, most urgent first."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on

from domain.case import OPEN_STATES
from domain.region import Region
from domain.services.queue import UnqueuedCase, UnqueuedCases
from persistence.repositories import CASES, PostgresUnitOfWork
from persistence.tables.cases import cases, reports
from persistence.tables.policies import policies


def unqueued_cases(uow: PostgresUnitOfWork) -> UnqueuedCases:
    """The domain's `UnqueuedCases` port on PostgreSQL, within ``uow`` (its region filter applies)."""

    async def find(region: Region, limit: int) -> list[UnqueuedCase]:
        await uow.flush()
        stmt = (
            sa.select(cases)
            .where(cases.c.region == region, cases.c.queue_id.is_(None), cases.c.state.in_(sorted(OPEN_STATES)))
            .order_by(cases.c.sla_due_at, cases.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if uow.regions is not None:
            stmt = stmt.where(cases.c.region.in_(sorted(uow.regions)))
        rows = (await uow.session.execute(stmt)).mappings().all()
        if not rows:
            return []
        first_policy = (
            sa.select(reports.c.case_id, policies.c.code)
            .join(policies, policies.c.id == reports.c.policy_id)
            .where(reports.c.case_id.in_([row["id"] for row in rows]))
            .order_by(reports.c.case_id, reports.c.created_at, reports.c.id)
            .ext(distinct_on(reports.c.case_id))
        )
        codes = {case_id: code for case_id, code in (await uow.session.execute(first_policy)).all()}
        return [UnqueuedCase(uow.track_loaded(CASES, row), codes.get(row["id"])) for row in rows]

    return find
