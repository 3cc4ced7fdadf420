"""Keyset pages of each record type from typed filters: the SQL of the root list fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.report import ReportSource
from persistence.db import SessionFactory
from persistence.fast.sql import Pool
from persistence.mapping import EntityMapping
from persistence.operations import constant
from persistence.pagination import Page
from persistence.queries import filters as f
from persistence.queries import reads
from persistence.queries.status import account_status_is, strike_status_is
from persistence.repositories import (
    ACCOUNTS,
    ADS,
    APPEALS,
    CASES,
    CONTENTS,
    DECISIONS,
    POLICIES,
    REPORTS,
    STRIKE_LADDERS,
    STRIKES,
)
from persistence.tables.cases import reports


class Source:
    """Where pages are read: the app's asyncpg pool (one round trip), else a short session (CLI, tests); on the
    pool, with ``rendering`` (of the page's table), the page's items rendered too (``reads.Rendering``)."""

    def __init__(self, pool: Pool | None, sessions: SessionFactory, rendering: reads.Rendering | None = None) -> None:
        self.pool, self.sessions, self.rendering = pool, sessions, rendering

    async def page(
        self, mapping: EntityMapping[Any], where: list[Any], request: f.PageRequest, sort: str = "created_at"
    ) -> Page[Any]:
        regions, first, after = request.regions, request.first, request.after
        if self.pool is not None:
            return await reads.fetch_page(
                self.pool,
                mapping,
                where=where,
                regions=regions,
                first=first,
                after=after,
                sort=sort,
                rendering=self.rendering,
            )
        session: AsyncSession
        async with self.sessions() as session:
            return await reads.page(session, mapping, where=where, regions=regions, first=first, after=after, sort=sort)


def _eq(column: sa.ColumnElement[Any], value: Any) -> list[Any]:
    return [] if value is None else [column == value]


def _between(column: sa.ColumnElement[Any], after: datetime | None, before: datetime | None) -> list[Any]:
    return ([column >= after] if after is not None else []) + ([column < before] if before is not None else [])


async def accounts(source: Source, q: f.AccountFilter, request: f.PageRequest) -> Page[Any]:
    t = ACCOUNTS.table.c
    where = _eq(t.kind, q.kind) + _eq(t.external_id, q.external_id)
    where += [account_status_is(q.status, datetime.now(UTC))] if q.status is not None else []
    return await source.page(ACCOUNTS, where, request)


async def contents(source: Source, q: f.ContentFilter, request: f.PageRequest) -> Page[Any]:
    t = CONTENTS.table.c
    where = _eq(t.visibility, q.visibility) + _eq(t.kind, q.kind) + _eq(t.owner_account_id, q.owner_id)
    return await source.page(CONTENTS, where, request)


async def ads(source: Source, q: f.AdFilter, request: f.PageRequest) -> Page[Any]:
    t = ADS.table.c
    where = _eq(t.review_status, q.review_status) + _eq(t.advertiser_account_id, q.advertiser_id)
    return await source.page(ADS, where, request)


async def policies(source: Source, q: f.PolicyFilter, request: f.PageRequest) -> Page[Any]:
    t = POLICIES.table.c
    return await source.page(POLICIES, _eq(t.surface, q.surface) + _eq(t.code, q.code), request)


async def strike_ladders(source: Source, q: f.StrikeLadderFilter, request: f.PageRequest) -> Page[Any]:
    t = STRIKE_LADDERS.table.c
    return await source.page(STRIKE_LADDERS, _eq(t.surface, q.surface), request)


async def reports_page(source: Source, q: f.ReportFilter, request: f.PageRequest) -> Page[Any]:
    t = REPORTS.table.c
    where = _eq(t.case_id, q.case_id) + _eq(t.policy_id, q.policy_id)
    # the source written into the text (five values, five statements): the pool plans a statement once for any
    # parameters, and a plan for any source can use neither the statistics of a rare one nor its partial index
    # (``ix_reports_rare_source_created``); it read the regions' reports newest first, dropping the others
    where += [] if q.source is None else [t.source == constant(ReportSource(q.source).value)]
    where += _eq(t.reporter_id, q.reporter_id) + _between(t.created_at, q.created_after, q.created_before)
    return await source.page(REPORTS, where, request)


async def cases(source: Source, q: f.CaseFilter, request: f.PageRequest) -> Page[Any]:
    t = CASES.table.c
    where = _eq(t.surface, q.surface) + _between(t.created_at, q.created_after, q.created_before)
    where += [t.state.in_(q.states)] if q.states else []
    # the subject's kind beside its id: ``ix_cases_subject`` leads with it (PostgreSQL 15 cannot skip it, and read
    # every case for a subject's page)
    where += _eq(t.subject_kind, q.subject_kind) + _eq(t.subject_id, q.subject_id)
    where += _eq(t.subject_account_id, q.account_id) + _eq(t.queue_id, q.queue_id)
    if q.policy_id is not None:
        r = reports.c
        where.append(sa.exists().where(r.case_id == t.id, r.policy_id == q.policy_id))
    return await source.page(CASES, where, request)


async def decisions(source: Source, q: f.DecisionFilter, request: f.PageRequest) -> Page[Any]:
    t = DECISIONS.table.c
    where = _eq(t.verdict, q.verdict) + _eq(t.decider_id, q.decider_id) + _eq(t.policy_id, q.policy_id)
    where += _between(t.decided_at, q.decided_after, q.decided_before)
    return await source.page(DECISIONS, where, request, sort="decided_at")


async def strikes(source: Source, q: f.StrikeFilter, request: f.PageRequest) -> Page[Any]:
    t = STRIKES.table.c
    where = _eq(t.account_id, q.account_id) + _eq(t.policy_id, q.policy_id)
    where += [strike_status_is(q.status, datetime.now(UTC))] if q.status is not None else []
    return await source.page(STRIKES, where, request)


async def appeals(source: Source, q: f.AppealFilter, request: f.PageRequest) -> Page[Any]:
    t = APPEALS.table.c
    where = _eq(t.state, q.state) + _eq(t.appellant_account_id, q.appellant_id) + _eq(t.queue_id, q.queue_id)
    where += _between(t.filed_at, q.filed_after, q.filed_before)
    return await source.page(APPEALS, where, request)
