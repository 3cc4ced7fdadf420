"""The hot pool plans each prepared statement once for any values (``force_generic_plan``), weighing a reporter as
the average one, on whatever statistics the tables had when the connection first ran it. Whatever they are, the
intake prefetch must find a report by its idempotency key through the idempotency index, one index search a key,
never by walking the reporter's own reports (a platform service has millions); and a subject's open case through
the open cases' index on both its columns, one search a subject, never by reading every case (PostgreSQL 15 cannot
skip through an index's first column) nor every open case (what a plan made while few cases were open chose)."""

from __future__ import annotations

import uuid

import pytest

from persistence.fast.intake import prefetch_sql
from persistence.fast.sql import create_pool


def _reports_branch(plan: str) -> str:
    """The plan of the prefetch's first branch (the reports), up to the contents' branch."""
    return plan.split("on contents c")[0]


def _cases_branch(plan: str) -> str:
    """The plan of the prefetch's open cases, up to the queues' branch."""
    return plan.split("policy_versions v")[1].split("on queues q")[0]


# One platform service with thousands of reports among thousands of people with one each: the average reporter
# has two or three. (Inserted without their cases and policies, foreign keys off for the session: the plan is
# what is tested, and it depends on the statistics only.)
_REPORTS = """
INSERT INTO reports (id, region, subject_kind, subject_id, source, reporter_id, reporter_kind, policy_id,
                     idempotency_key, case_id, created_at, updated_at, version)
SELECT gen_random_uuid(), 'EU', 'CONTENT', gen_random_uuid(), 'USER',
       CASE WHEN n <= 5000 THEN 'partner:platform' ELSE 'partner:' || n END, 'TOKEN', gen_random_uuid(),
       'k' || n, gen_random_uuid(), now(), now(), 1
FROM generate_series(1, 8000) AS n
"""
# Open cases of every kind (a backlog).
_CASES = """
INSERT INTO cases (id, region, subject_kind, subject_id, subject_account_id, surface, state, priority, report_count,
                   sla_due_at, created_at, updated_at, version)
SELECT gen_random_uuid(), 'EU', (ARRAY['CONTENT', 'ACCOUNT', 'AD'])[1 + n % 3], gen_random_uuid(), gen_random_uuid(),
       'CONTENT', 'OPEN', 50, 1, now(), now(), now(), 1
FROM generate_series(1, 20000) AS n
"""
_ANALYZE = "ANALYZE reports; ANALYZE cases"


@pytest.mark.parametrize("statistics", ["fresh", "stale"])
async def test_reports_and_open_cases_are_found_one_index_search_each(db_url: str, statistics: str) -> None:
    """``fresh``: the tables analysed as they are; ``stale``: analysed while empty, then filled (a pool connection
    that planned on the first day, before autovacuum caught up)."""
    pool = await create_pool(db_url, size=1)
    try:
        async with pool.acquire() as conn:
            if statistics == "stale":
                await conn.execute(_ANALYZE)
            await conn.execute("SET session_replication_role = replica")
            await conn.execute(_REPORTS)
            await conn.execute(_CASES)
            await conn.execute("RESET session_replication_role")
            if statistics == "fresh":
                await conn.execute(_ANALYZE)
            for classifier in (False, True):
                for owners in (False, True):
                    sql = prefetch_sql(classifier, owners)
                    name = f"intake_prefetch_{int(classifier)}{int(owners)}"
                    await conn.execute(f"PREPARE {name} AS {sql}")
                    subject = uuid.uuid4()
                    values = [
                        "'partner:platform'",  # $1 the reporter
                        "ARRAY['k1', 'k2']",  # $2 the idempotency keys
                        f"ARRAY['{subject}']::uuid[]",  # $3-$5 contents, accounts, ads
                        "ARRAY[]::uuid[]",
                        "ARRAY[]::uuid[]",
                        f"ARRAY['{uuid.uuid4()}']::uuid[]",  # $6 policies
                        "ARRAY[1]::bigint[]",  # $7 lock keys
                    ]
                    if classifier:
                        values.append("'classifier'")
                    if owners:
                        values.append("ARRAY['EU']")
                    # EXECUTE under the pool's session settings: the generic plan every pooled call runs
                    plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE {name}({', '.join(values)})"))
                    assert "$1" in plan, plan  # the generic plan, not one for these values
                    reports = _reports_branch(plan)
                    assert "Index Cond: (((reporter_id)::text = $1) AND ((idempotency_key)::text = wanted.key))" in (
                        reports
                    ), plan
                    assert "uq_reports_idempotency" in reports, plan
                    assert "ix_reports_reporter_created" not in reports, plan
                    cases = _cases_branch(plan)
                    # one search a subject (of any kind: the wanted subjects are one list), on both columns of the
                    # open cases' index
                    scans = cases.split("Index Scan using uq_cases_one_open_per_subject on cases")
                    assert len(scans) == 2, plan
                    cond = scans[1].split("Index Cond: ")[1].splitlines()[0]
                    assert "(subject_kind)::text = " in cond, plan
                    assert "subject_id = id.id" in cond, plan
                    assert "Limit" in cases, plan
                    assert "Seq Scan on cases" not in cases, plan
                    assert "Bitmap" not in cases, plan  # no index read by state alone
                    await conn.execute(f"DEALLOCATE {name}")
    finally:
        await pool.close()
