"""The rules' evaluation is at least once and a second evaluation is harmless (issue 22): accepted events are noted
in ``rule_backlog`` with what was accepted; an evaluation that fails after the commit leaves the note, and the
sweeper (``BacklogRunner.run_due``) evaluates those events again once, after the grace period; evaluating the same
events twice leaves the same rows as once (hits, reports, labels, tallies, counters in PostgreSQL and Redis,
delayed actions)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

import api.graphql.rule_evaluation as rule_evaluation
from api.services.rule_backlog import BacklogRunner
from domain.rules.event import Event
from domain.services.events import Accepted
from persistence import rule_backlog
from persistence.counters_redis import PREFIX
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.fast.sql import create_pool
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import SUBMIT, fetch
from tests.integration.lifecycle import flows
from tests.integration.rules.helpers import spam_queue
from tests.integration.rules.test_counters import _redis_reachable
from tests.integration.rules.test_rule_actions import _live, _world
from tests.integration.tokens import issue_partner_token

REDIS_URL = "redis://127.0.0.1:6379/13"  # this file's own database
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
SENT_AT = datetime.now(UTC)  # events sent through the API: the partitions and counters of the present
EVERYTHING = (
    'rule "coins"\non content.posted\nin US\npolicy SPAM\n'
    'when contains(lower(text), "free coins") and count(posts, account, 1h) >= 1\n'
    'then label(account, "coins", 1d), label(account, "coins-too", 1d), open_case(queue="spam", priority=60), '
    'delay(1m, 1m, label(content, "later", 1d))\n'
)
EFFECTS = """
SELECT (SELECT count(*) FROM rule_hits) AS hits,
       (SELECT count(*) FROM reports) AS reports,
       (SELECT count(*) FROM cases) AS cases,
       (SELECT coalesce(array_agg(name || ':' || version ORDER BY name), '{}') FROM labels) AS labels,
       (SELECT coalesce(array_agg(rule_id::text || ':' || action_kind || ':' || count
                                  ORDER BY rule_id, action_kind), '{}') FROM rule_action_tallies) AS tallies,
       (SELECT count(*) FROM rule_action_takes) AS takes,
       (SELECT count(*) FROM rule_delayed_actions) AS delayed,
       (SELECT count(*) FROM counter_members) AS members,
       (SELECT count(*) FROM audit_events WHERE action IN ('ruleLabel', 'ruleAction')) AS audited
"""


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(db_url, size=4)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(db_url, pool_size=4)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


def _posted(video: str, key: str | None = None) -> Accepted:
    event = Event(
        "content.posted", "US", {"account": "creator-1", "content": video}, {"text": "free coins"}, T0, key or video
    )
    return Accepted(uuid.uuid4(), event, duplicate=False)


async def _effects(db_url: str) -> dict[str, Any]:
    (row,) = await fetch(db_url, EFFECTS)
    return dict(row)


async def _send(gql: GraphQLClient, token: str, items: list[dict[str, Any]]) -> list[int]:
    body = await gql(SUBMIT.replace("eventId duplicate", "eventId duplicate ruleHits"), {"events": items}, token=token)
    assert "errors" not in body, body
    results = body["data"]["submitEvents"]["results"]
    assert all("ruleHits" in r for r in results), results
    return [r["ruleHits"] for r in results]


def _coins(key: str) -> dict[str, Any]:
    return {
        "type": "content.posted",
        "region": "US",
        "entities": [{"kind": "ACCOUNT", "externalId": "creator-1"}, {"kind": "CONTENT", "externalId": "v-1"}],
        "attributes": {"text": "free coins"},
        "occurredAt": SENT_AT.isoformat(),
        "idempotencyKey": key,
    }


async def test_an_evaluation_failing_after_the_commit_is_swept_once(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await _world(gql, db_url)
    await spam_queue(gql, admin)
    await _live(gql, admin, EVERYTHING)
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the evaluation died after the commit")

    with monkeypatch.context() as patched:
        patched.setattr(rule_evaluation.rule_backlog, "evaluate", broken)
        assert await _send(gql, platform, [_coins("k-1")]) == [0]
    [stored] = await fetch(db_url, "SELECT id FROM platform_events")
    [row] = await fetch(db_url, "SELECT source, event_ids, events, created_at FROM rule_backlog")
    assert (row["source"], row["event_ids"], row["events"]) == ("submitEvents", [stored["id"]], None)
    assert (await _effects(db_url))["hits"] == 0

    runner = BacklogRunner(pool, sessions, None, grace=30)
    assert await runner.run_due(row["created_at"] + timedelta(seconds=10)) == []  # within the grace period
    swept = await runner.run_due(row["created_at"] + timedelta(seconds=31))
    assert len(swept) == 1
    after = await _effects(db_url)
    assert (after["hits"], after["reports"], after["takes"], after["delayed"]) == (1, 1, 3, 1)
    assert sorted(after["labels"]) == ["coins-too:1", "coins:1"]
    assert await fetch(db_url, "SELECT id FROM rule_backlog") == []
    assert await runner.run_due(row["created_at"] + timedelta(seconds=62)) == []  # nothing left
    assert await _effects(db_url) == after


async def test_events_accepted_while_the_rule_sets_cannot_load_are_noted_and_swept(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule sets fail to load (the database answered the intake, not the rules' query): the events are still
    accepted, noted for the rules as if every region had some, and the sweeper evaluates them once the sets load."""
    admin = await _world(gql, db_url)
    await spam_queue(gql, admin)
    await _live(gql, admin, EVERYTHING)
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")

    async def unloadable(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the rule sets could not be read")

    with monkeypatch.context() as patched:
        patched.setattr(rule_evaluation.cache_for(pool).__class__, "get", unloadable)
        assert await _send(gql, platform, [_coins("k-1")]) == [0]
    [stored] = await fetch(db_url, "SELECT id FROM platform_events")
    [row] = await fetch(db_url, "SELECT source, event_ids, created_at FROM rule_backlog")
    assert (row["source"], row["event_ids"]) == ("submitEvents", [stored["id"]])
    assert (await _effects(db_url))["hits"] == 0

    swept = await BacklogRunner(pool, sessions, None, grace=30).run_due(row["created_at"] + timedelta(seconds=31))
    assert len(swept) == 1
    assert (await _effects(db_url))["hits"] == 1
    assert await fetch(db_url, "SELECT id FROM rule_backlog") == []


async def test_the_happy_path_leaves_no_backlog_row(gql: GraphQLClient, db_url: str) -> None:
    admin = await _world(gql, db_url)
    await spam_queue(gql, admin)
    await _live(gql, admin, EVERYTHING)
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    assert await _send(gql, platform, [_coins("k-1")]) == [1]
    assert await _send(gql, platform, [_coins("k-1")]) == [0]  # a retry: a duplicate, evaluated once
    assert await fetch(db_url, "SELECT id FROM rule_backlog") == []
    assert (await _effects(db_url))["hits"] == 1


async def test_a_batch_of_a_region_without_rules_writes_no_backlog_row(gql: GraphQLClient, db_url: str) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    assert await _send(gql, platform, [_coins("k-1")]) == [0]
    assert len(await fetch(db_url, "SELECT id FROM platform_events")) == 1
    assert await fetch(db_url, "SELECT id FROM rule_backlog") == []


@pytest.mark.parametrize("counters", ["postgres", "redis"])
async def test_evaluating_twice_leaves_what_evaluating_once_does(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory, counters: str
) -> None:
    redis_url = REDIS_URL if counters == "redis" else None
    if redis_url is not None and not _redis_reachable():
        pytest.skip("no Redis at 127.0.0.1:6379")
    admin = await _world(gql, db_url, ("v-1", "v-2"))
    await spam_queue(gql, admin)
    await _live(gql, admin, EVERYTHING, dailyActionCap=3)  # 3 labels a day: the second event's 2nd is enqueued
    key = f"{uuid.uuid4().hex[:8]}"
    batch = [_posted("v-1", f"{key}-1"), _posted("v-2", f"{key}-2")]
    client = aioredis.from_url(REDIS_URL)
    try:
        first = await rule_backlog.evaluate(pool, sessions, redis_url, batch, T0)
        once = await _effects(db_url)
        members = await client.zcard(f"{PREFIX}posts:account:creator-1")
        # Again as the sweeper does (each action looks for its record), and as a concurrent evaluation would (the
        # record's key conflicts): no hit, action, count, label or enqueued report is added.
        again = await rule_backlog.evaluate(pool, sessions, redis_url, batch, T0 + timedelta(minutes=1), again=True)
        assert await _effects(db_url) == once
        concurrent = await rule_backlog.evaluate(pool, sessions, redis_url, batch, T0 + timedelta(minutes=2))
        assert await _effects(db_url) == once
        assert await client.zcard(f"{PREFIX}posts:account:creator-1") == members
        if counters == "redis":
            assert members == 2
            await client.delete(f"{PREFIX}posts:account:creator-1")
    finally:
        await client.aclose()
    assert [h.actions for h in again.hits] == [h.actions for h in first.hits]
    assert [h.actions for h in concurrent.hits] == [h.actions for h in first.hits]
    outcomes = [(a.action, a.outcome.value, a.reason) for h in first.hits for a in h.actions]
    assert [o[:2] for o in outcomes] == [
        ("LABEL", "TAKEN"),
        ("LABEL", "TAKEN"),
        ("OPEN_CASE", "TAKEN"),
        ("LABEL", "SCHEDULED"),
        ("LABEL", "TAKEN"),
        ("LABEL", "WITHHELD"),  # past the cap: enqueued for a human
        ("OPEN_CASE", "TAKEN"),
        ("LABEL", "SCHEDULED"),
    ]
    assert outcomes[5][2] == "daily cap"
    assert (once["hits"], once["delayed"], once["takes"]) == (2, 2, 6)
    assert once["members"] == (0 if counters == "redis" else 4)  # per account and per content
    assert sorted(once["tallies"]) == sorted(
        [f"{uuid.UUID(int=0)}:LABEL:3", f"{uuid.UUID(int=0)}:OPEN_CASE:2"]
        + [f"{h.rule.rule_id}:{kind}" for h in first.hits[:1] for kind in ("LABEL:3", "OPEN_CASE:2")]
    )


async def test_a_signals_scores_are_noted_with_the_signal(
    gql: GraphQLClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``submitSignal`` writes its events' note in its own unit of work; a failed evaluation leaves it, whole."""
    admin = await _world(gql, db_url)
    policy = await flows.policy(gql, admin, "HATE")
    owner = await flows.account(gql, admin, "creator-9")
    source = (
        'rule "scores"\non signal.submitted\nin US\npolicy HATE\nwhen score >= 0.5\nthen label(account, "scored", 1d)\n'
    )
    await _live(gql, admin, source)
    query = """mutation($input: SubmitSignalInput!) { submitSignal(input: $input) { __typename } }"""

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the evaluation died after the commit")

    signal = {"subjectId": owner, "classifier": "toxicity", "scores": [{"policyId": policy, "score": 0.9}]}
    with monkeypatch.context() as patched:
        patched.setattr(rule_evaluation.rule_backlog, "evaluate", broken)
        body = await gql(query, {"input": signal}, token=admin)
    assert "errors" not in body, body
    [row] = await fetch(db_url, "SELECT source, event_ids, events FROM rule_backlog")
    assert (row["source"], row["event_ids"]) == ("submitSignal", None)
    [accepted] = rule_backlog.from_json(row["events"])
    assert (accepted.event.type, accepted.event.entities["account"]) == ("signal.submitted", "creator-9")
    assert (await _effects(db_url))["hits"] == 0


@pytest.mark.parametrize("failing", ["evaluation", "rule-set load"])
async def test_a_reports_events_are_noted_before_the_rules_run_and_swept_if_they_fail(
    gql: GraphQLClient,
    db_url: str,
    pool: asyncpg.Pool,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    """The evaluation dies after the commit, or the rule sets cannot even be loaded when the report is filed (then
    every region is taken to have rules): either way the report's event is noted with it and swept later."""
    admin = await _world(gql, db_url)
    policy = await flows.policy(gql, admin, "HATE")
    owner = await flows.account(gql, admin, "creator-8")
    video = await flows.content(gql, admin, owner, "video-8")
    source = 'rule "reported"\non content.reported\nin US\npolicy HATE\nwhen true\nthen label(content, "seen", 1d)\n'
    await _live(gql, admin, source)

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the evaluation died after the commit")

    with monkeypatch.context() as patched:
        if failing == "evaluation":
            patched.setattr(rule_evaluation.rule_backlog, "evaluate", broken)
        else:
            patched.setattr(rule_evaluation.cache_for(pool).__class__, "get", broken)
        await flows.report(gql, admin, video, policy)
    [row] = await fetch(db_url, "SELECT source, events, created_at FROM rule_backlog")
    [accepted] = rule_backlog.from_json(row["events"])
    assert (row["source"], accepted.event.type) == ("submitReports", "content.reported")
    assert (await _effects(db_url))["hits"] == 0

    runner = BacklogRunner(pool, sessions, None, grace=30)
    assert len(await runner.run_due(row["created_at"] + timedelta(seconds=31))) == 1
    after = await _effects(db_url)
    assert (after["hits"], after["labels"], after["takes"]) == (1, ["seen:1"], 1)
    assert await runner.run_due(row["created_at"] + timedelta(seconds=62)) == []
    await flows.report(gql, admin, video, policy)  # the happy path: evaluated, its note deleted
    assert await fetch(db_url, "SELECT id FROM rule_backlog") == []
