"""Reads of a subject's records by its id alone must search an index by that id, never read the table.

- An account's enforcement actions: the DataLoader behind ``Account.status`` and a bulk chunk's prefetch of its
  cases' subjects (on PostgreSQL 15, which cannot skip through an index's first column, an index that led with the
  target's kind left only a sequential scan).
- Whether people decided a subject lately (``rule_runtime.snoozed``, on every batch of events naming subjects):
  nothing indexed decisions by subject; and whether some rule is snoozed for it (``rule_stats.rule_snoozed``), which
  the snoozes' key, rule first, could not answer on 15."""

from __future__ import annotations

import uuid

import pytest

from persistence.fast.bulk import CHUNK_SQL
from persistence.fast.sql import create_pool
from persistence.queries.reads import _grouped_sql
from persistence.rule_runtime import _SNOOZED
from persistence.rule_stats import _RULE_SNOOZED
from persistence.tables.outcomes import enforcement_actions

# Actions against many targets (foreign keys off for the session: the plan is what is tested).
_ACTIONS = """
INSERT INTO enforcement_actions (id, region, decision_id, kind, target_kind, target_id, starts_at, source, created_at,
                                 updated_at, version)
SELECT gen_random_uuid(), 'EU', gen_random_uuid(), 'WARN', (ARRAY['CONTENT', 'ACCOUNT', 'AD'])[1 + n % 3],
       gen_random_uuid(), now(), 'DECISION', now(), now(), 1
FROM generate_series(1, 20000) AS n
"""
# Decisions, by people and by automation, on many subjects.
_DECISIONS = """
INSERT INTO decisions (id, region, case_id, subject_kind, subject_id, subject_account_id, verdict, rationale,
                       decider_id, decider_kind, decider_seniority, automated, decided_at, created_at, updated_at,
                       version)
SELECT gen_random_uuid(), 'EU', gen_random_uuid(), 'CONTENT', gen_random_uuid(), gen_random_uuid(), 'VIOLATING', '',
       'staff:x', 'STAFF', 1, n % 4 = 0, now() - n * interval '1 minute', now(), now(), 1
FROM generate_series(1, 20000) AS n
"""
# Snoozes of many entities by a few rules.
_SNOOZES = """
INSERT INTO rule_snoozes (rule_id, region, entity_kind, entity_id, until, author_id, created_at)
SELECT r.id, 'EU', 'content', 'c' || n, now() + interval '1 day', 'staff:x', now()
FROM generate_series(1, 25000) AS n, (SELECT gen_random_uuid() AS id FROM generate_series(1, 4)) AS r
"""


_ANALYZE = "ANALYZE enforcement_actions; ANALYZE decisions; ANALYZE rule_snoozes"


@pytest.mark.parametrize("statistics", ["fresh", "stale"])
async def test_a_subjects_actions_and_decisions_are_found_by_its_id(db_url: str, statistics: str) -> None:
    """``fresh``: the tables analysed as they are; ``stale``: analysed while empty, then filled."""
    pool = await create_pool(db_url, size=1)
    try:
        async with pool.acquire() as conn:
            if statistics == "stale":
                await conn.execute(_ANALYZE)
            await conn.execute("SET session_replication_role = replica")
            await conn.execute(_ACTIONS)
            await conn.execute(_DECISIONS)
            await conn.execute(_SNOOZES)
            await conn.execute("RESET session_replication_role")
            if statistics == "fresh":
                await conn.execute(_ANALYZE)
            for name, sql, values in (
                ("by_target", _grouped_sql(enforcement_actions, "target_id", "created_at", None),
                 f"ARRAY['{uuid.uuid4()}', '{uuid.uuid4()}']::uuid[]"),
                ("chunk", CHUNK_SQL, f"'{uuid.uuid4()}', 100, '{uuid.uuid4()}'"),
            ):  # fmt: skip
                await conn.execute(f"PREPARE {name} AS {sql}")
                # EXECUTE under the pool's session settings: the generic plan every pooled call runs
                plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE {name}({values})"))
                actions = plan.split("on enforcement_actions")[-1].split("->")[0]
                assert "ix_enforcement_actions_target" in plan, plan
                assert "Seq Scan on enforcement_actions" not in plan, plan
                assert "target_id" in actions, plan
            await conn.execute(f"PREPARE snoozed AS {_SNOOZED}")
            wanted = """'["EU"]', '["content"]', '["c1"]', now(), 30"""
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE snoozed({wanted})"))
            assert "ix_decisions_subject_by_people" in plan, plan
            assert "Seq Scan on decisions" not in plan, plan
            await conn.execute(f"PREPARE rule_snoozed AS {_RULE_SNOOZED}")
            plan = "\n".join(
                r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE rule_snoozed({wanted.rsplit(',', 1)[0]})")
            )
            assert "ix_rule_snoozes_entity" in plan, plan
            assert "Seq Scan on rule_snoozes" not in plan, plan
    finally:
        await pool.close()
