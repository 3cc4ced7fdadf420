"""Console listings filtered on one record's column read an index that leads with that column, never their
regions' index newest first, dropping every other record's rows on the way. The pool plans a page once for any values
(``force_generic_plan``); each test plans on fresh statistics and on stale ones (analysed while empty, then filled).

- A page of one subject's cases (``cases(filter: {subjectId})``) reads ``ix_cases_subject``, ``(subject_kind,
  subject_id)``, by both its columns: the global id names the kind. By the id alone, PostgreSQL 15 (which cannot skip
  through an index's first column) walked every case, newest first, looking for the subject's.
- One decider's decisions (``decisions(filter: {deciderId})``) and one policy's strikes (``strikes(filter:
  {policyId})``) had no index at all (migration 0027): a moderator who decided little, or a rarely broken policy,
  read every decision or strike of the regions.
- The reports of a rare source (``reports(filter: {source: LEGAL})``): a plan made for any source weighed it as the
  average one and walked the regions' reports; the source is now in the statement's text, and the rare sources have
  a partial index (migration 0028)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from domain.report import ReportSource
from domain.subject import SubjectKind
from persistence.fast.sql import compile_statement, create_pool
from persistence.queries import filters as f
from persistence.queries import listing
from persistence.queries.reads import _page_statement

# A backlog of cases of every kind (foreign keys off for the session: the plan is what is tested).
_CASES = """
INSERT INTO cases (id, region, subject_kind, subject_id, subject_account_id, surface, state, priority, report_count,
                   sla_due_at, created_at, updated_at, version)
SELECT gen_random_uuid(), 'EU', (ARRAY['CONTENT', 'ACCOUNT', 'AD'])[1 + n % 3], gen_random_uuid(), gen_random_uuid(),
       'CONTENT', 'CLOSED', 50, 1, now(), now() - n * interval '1 second', now(), 1
FROM generate_series(1, 20000) AS n
"""


class _Captured:
    """A ``listing.Source`` that keeps the page it was asked for."""

    async def page(self, mapping: Any, where: list[Any], request: f.PageRequest, sort: str = "created_at") -> Any:
        self.statement = _page_statement(mapping, where, request.regions, request.first, request.after, sort)


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return "ARRAY[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


# Decisions by 400 deciders, one of them (``staff:rare``) with a handful, long ago.
_DECISIONS = """
INSERT INTO decisions (id, region, case_id, subject_kind, subject_id, subject_account_id, verdict, rationale,
                       decider_id, decider_kind, decider_seniority, automated, decided_at, created_at, updated_at,
                       version)
SELECT gen_random_uuid(), 'EU', gen_random_uuid(), 'CONTENT', gen_random_uuid(), gen_random_uuid(), 'VIOLATING', '',
       CASE WHEN n > 19995 THEN 'staff:rare' ELSE 'staff:' || n % 400 END, 'STAFF', 1, false,
       now() - n * interval '1 minute', now(), now(), 1
FROM generate_series(1, 20000) AS n
"""
_RARE_POLICY = uuid.uuid4()
# Strikes under 200 policies, one of them (``_RARE_POLICY``) with a handful, long ago.
_STRIKES = f"""
INSERT INTO strikes (id, region, account_id, policy_id, policy_version_id, decision_id, surface, severity, weight,
                     issued_at, expires_at, status, created_at, updated_at, version)
SELECT gen_random_uuid(), 'EU', gen_random_uuid(),
       CASE WHEN n > 19995 THEN '{_RARE_POLICY}'::uuid
            ELSE ('00000000-0000-0000-0000-' || lpad((n % 200)::text, 12, '0'))::uuid END,
       gen_random_uuid(), gen_random_uuid(), 'CONTENT', 'HIGH', 1, now(), now() + interval '90 days', 'ACTIVE',
       now() - n * interval '1 minute', now(), 1
FROM generate_series(1, 20000) AS n
"""
# Reports, nearly all from users, a handful of legal notices long ago.
_REPORTS = """
INSERT INTO reports (id, region, subject_kind, subject_id, source, reporter_id, reporter_kind, policy_id, case_id,
                     created_at, updated_at, version)
SELECT gen_random_uuid(), 'EU', 'CONTENT', gen_random_uuid(), CASE WHEN n > 29995 THEN 'LEGAL' ELSE 'USER' END,
       'partner:' || n % 50, 'TOKEN', gen_random_uuid(), gen_random_uuid(), now() - n * interval '1 minute', now(), 1
FROM generate_series(1, 30000) AS n
"""
_PAGE = f.PageRequest(first=50, after=None, regions=frozenset({"EU", "US"}))


async def _generic_plan(db_url: str, statement: Any, table: str, rows: str, statistics: str) -> str:
    """The generic plan of a captured page over ``table`` holding ``rows``, under the pool's session settings."""
    compiled = compile_statement(statement)
    pool = await create_pool(db_url, size=1)
    try:
        async with pool.acquire() as conn:
            if statistics == "stale":
                await conn.execute(f"ANALYZE {table}")
            await conn.execute("SET session_replication_role = replica")
            await conn.execute(rows)
            await conn.execute("RESET session_replication_role")
            if statistics == "fresh":
                await conn.execute(f"ANALYZE {table}")
            await conn.execute(f"PREPARE listing_page AS {compiled.sql}")
            values = ", ".join(_literal(v) for v in compiled.args())
            # EXECUTE under the pool's session settings: the generic plan every pooled call runs
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE listing_page({values})"))
    finally:
        await pool.close()
    assert "$1" in plan or "$2" in plan, plan  # the generic plan
    assert "Seq Scan" not in plan, plan
    return plan


@pytest.mark.parametrize("statistics", ["fresh", "stale"])
async def test_a_subjects_cases_are_read_off_the_subjects_index(db_url: str, statistics: str) -> None:
    source = _Captured()
    query = f.CaseFilter(subject_kind=SubjectKind.CONTENT, subject_id=uuid.uuid4())
    await listing.cases(source, query, _PAGE)  # type: ignore[arg-type]
    plan = await _generic_plan(db_url, source.statement, "cases", _CASES, statistics)
    assert "ix_cases_subject" in plan, plan
    assert "(subject_kind)::text = " in plan.split("ix_cases_subject")[1], plan  # an index condition, not a skip


@pytest.mark.parametrize("statistics", ["fresh", "stale"])
async def test_one_deciders_decisions_are_read_off_the_deciders_index(db_url: str, statistics: str) -> None:
    source = _Captured()
    await listing.decisions(source, f.DecisionFilter(decider_id="staff:rare"), _PAGE)  # type: ignore[arg-type]
    plan = await _generic_plan(db_url, source.statement, "decisions", _DECISIONS, statistics)
    assert "ix_decisions_decider_decided" in plan, plan
    assert "Index Cond: ((decider_id)::text = " in plan, plan


@pytest.mark.parametrize("statistics", ["fresh", "stale"])
async def test_one_policys_strikes_are_read_off_the_policys_index(db_url: str, statistics: str) -> None:
    source = _Captured()
    await listing.strikes(source, f.StrikeFilter(policy_id=_RARE_POLICY), _PAGE)  # type: ignore[arg-type]
    plan = await _generic_plan(db_url, source.statement, "strikes", _STRIKES, statistics)
    assert "ix_strikes_policy_created" in plan, plan
    assert "Index Cond: (policy_id = " in plan, plan


@pytest.mark.parametrize("statistics", ["fresh", "stale"])
async def test_a_rare_sources_reports_are_read_off_their_own_index(db_url: str, statistics: str) -> None:
    source = _Captured()
    await listing.reports_page(source, f.ReportFilter(source=ReportSource.LEGAL), _PAGE)  # type: ignore[arg-type]
    plan = await _generic_plan(db_url, source.statement, "reports", _REPORTS, statistics)
    assert "ix_reports_rare_source_created" in plan, plan
    assert "'LEGAL'" in plan, plan  # in the statement's text, not a parameter
