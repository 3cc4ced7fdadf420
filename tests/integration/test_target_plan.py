"""An account's enforcement actions are read by the account's id alone: the DataLoader behind ``Account.status``
and a bulk chunk's prefetch of its cases' subjects. Both must search the actions' index by that id, never read every
action (on PostgreSQL 15, which cannot skip through an index's first column, an index that led with the target's
kind left only a sequential scan)."""

from __future__ import annotations

import uuid

from persistence.fast.bulk import CHUNK_SQL
from persistence.fast.sql import create_pool
from persistence.queries.reads import _grouped_sql
from persistence.tables.outcomes import enforcement_actions

# Actions against many targets (foreign keys off for the session: the plan is what is tested).
_ACTIONS = """
INSERT INTO enforcement_actions (id, region, decision_id, kind, target_kind, target_id, starts_at, source, created_at,
                                 updated_at, version)
SELECT gen_random_uuid(), 'EU', gen_random_uuid(), 'WARN', (ARRAY['CONTENT', 'ACCOUNT', 'AD'])[1 + n % 3],
       gen_random_uuid(), now(), 'DECISION', now(), now(), 1
FROM generate_series(1, 20000) AS n
"""


async def test_a_targets_actions_are_found_by_its_id(db_url: str) -> None:
    pool = await create_pool(db_url, size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET session_replication_role = replica")
            await conn.execute(_ACTIONS)
            await conn.execute("RESET session_replication_role; ANALYZE enforcement_actions")
            for name, sql, values in (
                ("by_target", _grouped_sql(enforcement_actions, "target_id", "created_at", None),
                 f"ARRAY['{uuid.uuid4()}', '{uuid.uuid4()}']::uuid[]"),
                ("chunk", CHUNK_SQL, f"'{uuid.uuid4()}', 100, '{uuid.uuid4()}'"),
            ):  # fmt: skip
                await conn.execute(f"PREPARE {name} AS {sql}")
                # EXECUTE under the pool's session settings: the generic plan every pooled call runs
                plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE {name}({values})"))
                actions = (
                    plan.split("on enforcement_actions")[1].split("->")[0] if "on enforcement_actions" in plan else ""
                )
                assert "ix_enforcement_actions_target" in plan, plan
                assert "Seq Scan on enforcement_actions" not in plan, plan
                assert "target_id" in actions, plan
    finally:
        await pool.close()
