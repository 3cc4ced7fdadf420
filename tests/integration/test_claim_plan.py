"""The hot pool plans each prepared statement once for any values (``force_generic_plan``): the claim's "next
case" must still read the claim index in urgency order and stop at the first free case, not sort the queue, and
find expired leases off the expiry index (only those are sorted, then the two candidates)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from persistence.fast.claims import _prefetch
from persistence.fast.sql import create_pool


async def test_the_next_case_is_read_off_the_claim_index_whatever_the_values(db_url: str) -> None:
    pool = await create_pool(db_url, size=1)
    try:
        async with pool.acquire() as conn:
            for escalated in (False, True):
                compiled = _prefetch(escalated)
                queue = uuid.uuid4()
                args = compiled.args(queue_id=queue, next_queue_id=queue, now=datetime.now(UTC), renew_id=None)
                name = f"claim_next_{int(escalated)}"
                await conn.execute(f"PREPARE {name} AS {compiled.sql}")
                values = ", ".join("NULL" if a is None else f"'{a}'" for a in args)  # ids, times, tags: no quotes
                plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE {name}({values})"))
                next_case = plan.split("CTE next_case")[1].split("CTE renewed_case")[0]
                head, unleased = next_case.split("Subquery Scan on unleased")
                unleased, expired = unleased.split("Subquery Scan on expired")
                assert "Sort Key: unleased.sla_due_at" in head, plan  # the two candidates, at most
                assert "ix_cases_claimable" in unleased, plan
                assert "Sort" not in unleased, plan  # read in urgency order, stopping at the first free case
                assert "Limit" in unleased, plan
                assert "Index Cond: ((queue_id = $4) AND (lease_expires_at <= $5))" in expired, plan
                assert "ix_cases_lease_expiry" in expired, plan
    finally:
        await pool.close()
