"""Migration 0012 turns every automation rule (classifier thresholds) into rules of the language with the same
bands: at or above the decide threshold a decision with the rule's actions, from the enqueue threshold up to it a
case for a human, below nothing; a disabled automation rule becomes DISABLED rules. The rules are loaded and
evaluated as the app does, against the automation rule's own banding, over a grid of scores."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx

from api.app import create_app
from api.settings import Settings
from domain.automation import AutomationRule, Band, decode_action
from domain.region import Region
from domain.rules import Decide, Event, Hold, OpenCase
from domain.rules.memory import Snapshot
from persistence import migrate as migrations
from persistence.fast.sql import asyncpg_dsn, create_pool
from persistence.rule_runtime import load_rules
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import fetch
from tests.integration.lifecycle import flows
from tests.integration.operations.test_automation import define_rule, signal
from tests.integration.tokens import issue_partner_token, issue_staff_token

NOW = datetime(2026, 12, 6, tzinfo=UTC)


async def _seed(url: str) -> dict[str, uuid.UUID]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    ids = {"policy": uuid.uuid4(), "enabled": uuid.uuid4(), "disabled": uuid.uuid4()}
    try:
        await conn.execute(
            "INSERT INTO policies (id, code, name, surface, current_version, created_at, updated_at) "
            "VALUES ($1, 'HATE_SPEECH', 'Hate', 'CONTENT', 1, $2, $2)",
            ids["policy"],
            NOW,
        )
        for key, classifier, enabled, actions in (
            ("enabled", 'demo "classifier"', True, ["REMOVE_CONTENT", "SUSPEND_ACCOUNT:7"]),
            ("disabled", "old-model", False, []),
        ):
            await conn.execute(
                "INSERT INTO automation_rules (id, region, policy_id, classifier, enqueue_threshold, decide_threshold, "
                "actions, enabled, created_at, updated_at) VALUES ($1, 'US', $2, $3, 0.6, 0.95, $4, $5, $6, $6)",
                ids[key],
                ids["policy"],
                classifier,
                actions,
                enabled,
                NOW,
            )
    finally:
        await conn.close()
    return ids


async def test_threshold_rules_become_rules_with_the_same_bands(empty_db_url: str) -> None:
    await migrations.upgrade_async(empty_db_url, "0011")
    ids = await _seed(empty_db_url)
    await migrations.upgrade_async(empty_db_url, "0012")

    conn = await asyncpg.connect(asyncpg_dsn(empty_db_url))
    try:
        rows = await conn.fetch(
            "SELECT r.state, v.migrated_from, v.author_id FROM rules r JOIN rule_versions v ON v.rule_id = r.id"
        )
    finally:
        await conn.close()
    assert sorted((r["state"], r["migrated_from"]) for r in rows) == sorted(
        [("SHADOW", ids["enabled"])] * 2 + [("DISABLED", ids["disabled"])] * 2
    )
    assert {r["author_id"] for r in rows} == {"migration:0012"}

    pool = await create_pool(empty_db_url, size=1)
    try:
        loaded = await load_rules(pool, NOW)
    finally:
        await pool.close()
    assert len(loaded.rules) == 2  # the disabled automation rule's rules are not loaded
    automation = AutomationRule(
        region=Region.US,
        policy_id=ids["policy"],
        classifier='demo "classifier"',
        enqueue_threshold=0.6,
        decide_threshold=0.95,
        actions=("REMOVE_CONTENT", "SUSPEND_ACCOUNT:7"),
        created_at=NOW,
        updated_at=NOW,
    )
    for score in (0.0, 0.59, 0.6, 0.7, 0.9499, 0.95, 0.97, 1.0):
        event = Event(
            type="signal.submitted",
            region="US",
            entities={"content": "c-1"},
            attributes={"classifier": 'demo "classifier"', "policy_code": "HATE_SPEECH", "score": score},
            occurred_at=NOW,
            signals={'demo "classifier"': score},
        )
        actions = [a for hit in loaded.rulesets["US"].evaluate(event, Snapshot()).hits for a in hit.actions]
        band = automation.band(score)
        if band is Band.DECIDE:
            assert len(actions) == 1
            assert isinstance(actions[0], Decide)
            assert [decode_action(a) for a in actions[0].actions] == list(automation.requested_actions)
        elif band is Band.ENQUEUE:
            assert len(actions) == 1
            assert isinstance(actions[0], OpenCase)
        else:
            assert actions == [], score
        other = dataclasses.replace(event, attributes={**event.attributes, "policy_code": "SPAM"})
        assert loaded.rulesets["US"].evaluate(other, Snapshot()).hits == ()


@contextlib.asynccontextmanager
async def _client(db_url: str) -> AsyncIterator[GraphQLClient]:
    app = create_app(Settings(env="test", principal_cache_seconds=0), database_url=db_url)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield GraphQLClient(http)


async def test_signals_meet_the_migrated_rules_beside_the_automation_rule(db_url: str) -> None:
    async with _client(db_url) as gql:
        admin = await issue_staff_token(db_url, "admin", "*")
        hate = await flows.policy(gql, admin, "HATE_SPEECH")
        creator = await flows.account(gql, admin, "creator-9")
        videos = [await flows.content(gql, admin, creator, f"video-{i}") for i in range(2)]
        assert (await define_rule(gql, admin, hate))["__typename"] == "DefineAutomationRuleSuccess"
    # The database as it was before 0012, with its automation rule, then migrated.
    await asyncio.to_thread(migrations.downgrade, db_url, "0011")
    await migrations.upgrade_async(db_url)
    async with _client(db_url) as gql:
        platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
        outcomes = []
        for video, score in zip(videos, (0.7, 0.97), strict=True):
            body = await signal(gql, platform, video, hate, score)
            outcomes.append(body["data"]["submitSignal"]["outcomes"][0]["outcome"])
    assert outcomes == ["ENQUEUED", "DECIDED"]  # the automation rule still acts
    hits = await fetch(
        db_url,
        "SELECT r.name, h.mode, h.subject_id, h.actions FROM rule_hits h JOIN rules r ON r.id = h.rule_id "
        "ORDER BY h.subject_id",
    )
    assert [(h["name"].rsplit(" ", 1)[1], h["mode"], h["subject_id"]) for h in hits] == [
        ("enqueue", "SHADOW", "video-0"),
        ("decide", "SHADOW", "video-1"),
    ]
    assert {json.loads(h["actions"])[0]["reason"] for h in hits} == {"shadow"}


async def test_migrated_enqueue_rules_hold_for_routing_once_open_case_names_a_real_queue(empty_db_url: str) -> None:
    """0020: open_case(queue=...) names a real queue now; the migrated enqueue band keeps its meaning (an AUTOMATED
    report that routing queues) as a new version saying hold(); the decide rules are left as they were."""
    await migrations.upgrade_async(empty_db_url, "0011")
    await _seed(empty_db_url)
    await migrations.upgrade_async(empty_db_url)

    rows = await fetch(
        empty_db_url,
        "SELECT r.name, r.current_version, v.source, v.author_id, v.state FROM rules r "
        "JOIN rule_versions v ON v.rule_id = r.id AND v.number = r.current_version ORDER BY r.name",
    )
    enqueue = [r for r in rows if r["name"].endswith(" enqueue")]
    decide = [r for r in rows if r["name"].endswith(" decide")]
    assert [(r["current_version"], r["author_id"]) for r in enqueue] == [(2, "migration:0020")] * 2
    assert all(r["source"].rstrip().endswith("then hold()") and "open_case" not in r["source"] for r in enqueue)
    assert sorted(r["state"] for r in enqueue) == ["DISABLED", "SHADOW"]  # the state is kept
    assert [(r["current_version"], r["author_id"]) for r in decide] == [(1, "migration:0012")] * 2

    pool = await create_pool(empty_db_url, size=1)
    try:
        loaded = await load_rules(pool, NOW)
    finally:
        await pool.close()
    event = Event(
        type="signal.submitted",
        region="US",
        entities={"content": "c-1"},
        attributes={"classifier": 'demo "classifier"', "policy_code": "HATE_SPEECH", "score": 0.7},
        occurred_at=NOW,
        signals={'demo "classifier"': 0.7},
    )
    hits = loaded.rulesets["US"].evaluate(event, Snapshot()).hits
    assert [(hit.version, hit.actions) for hit in hits] == [(2, (Hold(),))]
