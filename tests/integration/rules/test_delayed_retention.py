"""Delayed rule actions after they ran (issue 22, follow-up): the finished ones are deleted once older than
``VIGIL_RULES_RETENTION_DAYS``, set-based and in batches, the pending ones never; and how many wait per region
is a metric (``vigil_rule_delayed_actions_pending``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from api.services.delayed_actions import DelayedActionRunner
from api.settings import Settings
from persistence import delayed_actions
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.fast.sql import recording_queries
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import fetch
from tests.integration.observability.test_metrics import scrape, value
from tests.integration.rules.test_rule_actions import _live, _world, coins

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
_ROW = """
INSERT INTO rule_delayed_actions (id, rule_id, rule_version, region, position, event_id, event, action_kind, action,
                                  due_at, state, outcome, created_at, executed_at)
VALUES ($1, $2, 1, $3, 0, $4, '{}'::jsonb, 'LABEL', '{}'::jsonb, $5, $6, NULL, $5, $7)
"""


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(db_url, pool_size=2)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _rule(gql: GraphQLClient, db_url: str) -> uuid.UUID:
    admin = await _world(gql, db_url)
    await _live(gql, admin, coins('delay(1m, 1m, label(account, "later", 1d))'))
    [row] = await fetch(db_url, "SELECT id FROM rules")
    return uuid.UUID(str(row["id"]))


async def _add(
    pool: asyncpg.Pool, rule_id: uuid.UUID, state: str, ran_days_ago: float | None, region: str = "US"
) -> uuid.UUID:
    row_id = uuid.uuid4()
    executed = None if ran_days_ago is None else NOW - timedelta(days=ran_days_ago)
    due = (executed or NOW) - timedelta(minutes=1)
    async with pool.acquire() as conn:
        await conn.execute(_ROW, row_id, rule_id, region, uuid.uuid4(), due, state, executed)
    return row_id


async def test_finished_actions_past_the_retention_are_pruned_pending_ones_never(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory
) -> None:
    rule_id = await _rule(gql, db_url)
    old = [await _add(pool, rule_id, state, 91) for state in ("DONE", "DROPPED", "FAILED")]
    kept = [
        await _add(pool, rule_id, "DONE", 89),  # inside the retention
        await _add(pool, rule_id, "PENDING", None),  # waiting: never pruned, however old
    ]
    async with pool.acquire() as conn:  # a pending action scheduled long ago (a runner was down)
        await conn.execute(
            "UPDATE rule_delayed_actions SET created_at = $1 WHERE id = $2", NOW - timedelta(400), kept[1]
        )
    runner = DelayedActionRunner(pool, sessions, retention_days=90)
    assert await runner.prune(NOW) == 3
    left = await fetch(db_url, "SELECT id FROM rule_delayed_actions")
    assert sorted(r["id"] for r in left) == sorted(kept)
    assert not set(old) & {r["id"] for r in left}
    assert await runner.prune(NOW) == 0


async def test_the_prune_deletes_in_batches(gql: GraphQLClient, db_url: str, pool: asyncpg.Pool) -> None:
    rule_id = await _rule(gql, db_url)
    for _ in range(5):
        await _add(pool, rule_id, "DONE", 100)
    with recording_queries() as statements:
        deleted = await delayed_actions.prune_finished(pool, NOW - timedelta(days=90), batch=2)
    assert deleted == 5
    assert len(statements) == 3  # 2 + 2 + 1: a batch short of full ends it
    assert await fetch(db_url, "SELECT id FROM rule_delayed_actions") == []


def test_the_retention_is_at_least_the_action_records() -> None:
    assert Settings(rules_retention_days=31).rules_retention_days == 31
    with pytest.raises(ValueError, match="31"):
        Settings(rules_retention_days=30)


async def test_pending_actions_per_region_are_a_metric(
    http: httpx.AsyncClient, gql: GraphQLClient, db_url: str, pool: asyncpg.Pool
) -> None:
    rule_id = await _rule(gql, db_url)
    await _add(pool, rule_id, "PENDING", None)
    await _add(pool, rule_id, "PENDING", None)
    await _add(pool, rule_id, "PENDING", None, region="EU")
    await _add(pool, rule_id, "DONE", 1)  # ran: not waiting
    found = await scrape(http)
    assert value(found, "vigil_rule_delayed_actions_pending", region="US") == 2
    assert value(found, "vigil_rule_delayed_actions_pending", region="EU") == 1
    for region in ("APAC", "ROW"):  # every region is present, at 0 when none waits
        assert ("vigil_rule_delayed_actions_pending", (("region", region),)) in found
        assert value(found, "vigil_rule_delayed_actions_pending", region=region) == 0
    assert value(found, "vigil_scrape_collector_up", collector="delayed_actions") == 1
