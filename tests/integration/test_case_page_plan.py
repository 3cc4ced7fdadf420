"""A page of one subject's cases (``cases(filter: {subjectId})``) reads the subjects' index, ``(subject_kind,
subject_id)``, by both its columns: the global id names the kind. By the id alone, PostgreSQL 15 (which cannot skip
through an index's first column) walked every case, newest first, looking for the subject's. The pool plans the
page once for any values (``force_generic_plan``), on fresh statistics or on stale ones (analysed while empty)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

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


@pytest.mark.parametrize("statistics", ["fresh", "stale"])
async def test_a_subjects_cases_are_read_off_the_subjects_index(db_url: str, statistics: str) -> None:
    source = _Captured()
    subject = uuid.uuid4()
    query = f.CaseFilter(subject_kind=SubjectKind.CONTENT, subject_id=subject)
    await listing.cases(source, query, f.PageRequest(first=50, after=None, regions=frozenset({"EU", "US"})))  # type: ignore[arg-type]
    compiled = compile_statement(source.statement)
    pool = await create_pool(db_url, size=1)
    try:
        async with pool.acquire() as conn:
            if statistics == "stale":
                await conn.execute("ANALYZE cases")
            await conn.execute("SET session_replication_role = replica")
            await conn.execute(_CASES)
            await conn.execute("RESET session_replication_role")
            if statistics == "fresh":
                await conn.execute("ANALYZE cases")
            await conn.execute(f"PREPARE subject_cases AS {compiled.sql}")
            values = ", ".join(_literal(v) for v in compiled.args())
            # EXECUTE under the pool's session settings: the generic plan every pooled call runs
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE subject_cases({values})"))
    finally:
        await pool.close()
    assert "$1" in plan or "$2" in plan, plan  # the generic plan
    assert "ix_cases_subject" in plan, plan
    assert "(subject_kind)::text = " in plan.split("ix_cases_subject")[1], plan  # an index condition, not a skip
    assert "Seq Scan" not in plan, plan
