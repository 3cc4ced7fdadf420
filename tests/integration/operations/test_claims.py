"""claimNextCase under contention: 32 concurrent claimers on one queue get every case exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from tests.integration.conftest import GraphQLClient
from tests.integration.operations.helpers import claim_next, define_queue, raw_id, seed_cases
from tests.integration.tokens import issue_staff_token

CLAIMERS = 32
CASES = 160


async def test_32_concurrent_claimers_claim_every_case_exactly_once(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    queue = await define_queue(gql, admin, "us-content", isDefault=True)
    seeded = await seed_cases(db_url, queue["id"], CASES)
    tokens = [await issue_staff_token(db_url, "moderator", "US", name=f"mod-{i}") for i in range(CLAIMERS)]

    async def claimer(token: str) -> list[uuid.UUID]:
        mine: list[uuid.UUID] = []
        while True:
            result = await claim_next(gql, token, queue["id"])
            assert result["__typename"] == "ClaimNextCaseSuccess", result
            if result["case"] is None:
                return mine
            mine.append(raw_id(result["case"]["id"]))

    claimed = await asyncio.gather(*(claimer(t) for t in tokens))
    counts = Counter(case_id for mine in claimed for case_id in mine)
    assert sorted(counts) == sorted(seeded)
    assert set(counts.values()) == {1}
    assert sum(1 for mine in claimed if mine) > 1
