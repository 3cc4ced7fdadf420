"""The DSA statements of reasons an operator watches at scrape time: those not in the Transparency Database yet
(PENDING, IN_FLIGHT) and those it refused (REJECTED), per region, with the oldest one's age. One statement over
the (submission, created_at) index; SUBMITTED statements, the ever-growing rest, are not counted (that would read
the whole table at every scrape)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from domain.dsa.statement import SubmissionState

WATCHED = (SubmissionState.PENDING, SubmissionState.IN_FLIGHT, SubmissionState.REJECTED)
_WATCHED = ", ".join(f"'{s.value}'" for s in WATCHED)  # enum values from the domain, never caller text

STATEMENT_STATES_SQL = f"""
SELECT submission AS state, region, count(*) AS statements,
       coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_seconds
FROM statements_of_reasons
WHERE submission IN ({_WATCHED})
GROUP BY submission, region
"""  # noqa: S608 (constants only)


@dataclass(frozen=True)
class StatementStates:
    state: str
    region: str
    statements: int
    oldest_seconds: float


async def statement_states(pool: asyncpg.Pool) -> list[StatementStates]:
    rows = await pool.fetch(STATEMENT_STATES_SQL)
    return [StatementStates(r["state"], r["region"], r["statements"], r["oldest_seconds"]) for r in rows]
