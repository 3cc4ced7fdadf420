"""A LIVE rule's actions as its text says (issue 22, points 2 and 6), on PostgreSQL: ``open_case`` names a queue of
the rule's region (unknown: refused at definition; gone since: the action fails, the report still filed); an action
withheld past the daily cap is enqueued for a human with no decision; ``delay(min, max, action)`` is scheduled at a
due time drawn by the injected random source and run exactly once by the runner at or after it (a new runner, as
after a restart, finds it), or dropped when the rule was disabled meanwhile."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from api.services.delayed_actions import DelayedActionRunner
from domain.rules.event import Event
from domain.rules.memory import MemoryCounterStore
from domain.services.events import Accepted
from domain.services.rule_runs import Outcome, run_rules
from persistence import rule_runtime
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.rule_ports import PostgresRunPorts
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import fetch
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import raw_id
from tests.integration.rules.helpers import CREATE, TRANSITION, mutate, spam_queue
from tests.integration.rules.test_rules_on_events import _refresh_rule_sets
from tests.integration.tokens import issue_staff_token

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def coins(then: str) -> str:
    return (
        f'rule "coins"\non content.posted\nin US\npolicy SPAM\nwhen contains(lower(text), "free coins")\nthen {then}\n'
    )


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(db_url, pool_size=2)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _live(gql: GraphQLClient, token: str, source: str, **settings: object) -> str:
    created = await mutate(gql, token, CREATE, {"region": "US", "source": source, **settings})
    assert created["__typename"] == "RuleSuccess", created
    rule_id = str(created["rule"]["id"])
    for state in ("SHADOW", "LIVE"):
        await mutate(gql, token, TRANSITION, {"ruleId": rule_id, "state": state})
    await _refresh_rule_sets()
    return rule_id


async def _world(gql: GraphQLClient, db_url: str, videos: tuple[str, ...] = ("v-1",)) -> str:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    owner = await flows.account(gql, admin, "creator-1")
    for video in videos:
        await flows.content(gql, admin, owner, video)
    return admin


def _posted(video: str, at: datetime = T0) -> Accepted:
    event = Event("content.posted", "US", {"account": "creator-1", "content": video}, {"text": "free coins"}, at, video)
    return Accepted(uuid.uuid4(), event, duplicate=False)


async def _hits(db_url: str) -> list[dict[str, object]]:
    rows = await fetch(db_url, "SELECT actions FROM rule_hits ORDER BY created_at")
    return [a for r in rows for a in json.loads(r["actions"])]


async def test_an_unknown_queue_is_refused_when_the_rule_is_defined(gql: GraphQLClient, db_url: str) -> None:
    admin = await _world(gql, db_url)
    await spam_queue(gql, admin, region="EU")  # another region's queue does not count
    refused = await mutate(gql, admin, CREATE, {"region": "US", "source": coins('open_case(queue="spam", priority=8)')})
    assert (refused["__typename"], refused["ruleCode"], refused["line"]) == ("RuleTextError", "UNKNOWN_QUEUE", 6)
    assert await fetch(db_url, "SELECT id FROM rules") == []


async def test_a_queue_gone_since_fails_the_action_and_the_report_is_still_filed(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory
) -> None:
    admin = await _world(gql, db_url)
    await spam_queue(gql, admin)
    await _live(gql, admin, coins('open_case(queue="spam", priority=80)'))
    await fetch(db_url, "DELETE FROM queues WHERE name = 'spam'")  # no API deletes a queue: an operator did

    ports = PostgresRunPorts(pool, sessions, MemoryCounterStore())
    await run_rules(await rule_runtime.load_rules(pool, T0), [_posted("v-1")], ports, T0)

    [action] = await _hits(db_url)
    assert action["outcome"] == "FAILED"
    assert "US has no queue named 'spam'" in str(action["reason"])
    cases = await fetch(db_url, "SELECT id, queue_id, priority_floor FROM cases")
    assert [(str(c["id"]), c["queue_id"], c["priority_floor"]) for c in cases] == [(action["case_id"], None, None)]
    reports = await fetch(db_url, "SELECT source, reporter_id FROM reports")
    assert [r["source"] for r in reports] == ["AUTOMATED"]
    assert reports[0]["reporter_id"].endswith(":v3")


async def test_a_decision_withheld_past_the_cap_is_enqueued_and_not_taken(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory
) -> None:
    admin = await _world(gql, db_url, ("v-1", "v-2"))
    rule_id = await _live(gql, admin, coins('decide("REMOVE_CONTENT")'), dailyActionCap=1)
    ports = PostgresRunPorts(pool, sessions, MemoryCounterStore())

    await run_rules(await rule_runtime.load_rules(pool, T0), [_posted("v-1"), _posted("v-2")], ports, T0)

    taken, withheld = await _hits(db_url)
    assert (taken["outcome"], withheld["outcome"], withheld["reason"]) == ("TAKEN", "WITHHELD", "daily cap")
    decisions = await fetch(db_url, "SELECT case_id FROM decisions")
    assert len(decisions) == 1  # only the action within the cap
    waiting = await fetch(db_url, "SELECT id, state FROM cases WHERE id = $1", uuid.UUID(str(withheld["case_id"])))
    assert [c["state"] for c in waiting] == ["OPEN"]  # before a person, undecided
    assert waiting[0]["id"] != decisions[0]["case_id"]
    text = await fetch(db_url, "SELECT text FROM reports WHERE case_id = $1", waiting[0]["id"])
    assert "withheld (daily cap): for review" in text[0]["text"]
    query = "query($id: ID!) { ruleHits(ruleId: $id, first: 5) { nodes { actions { outcome reason caseId } } } }"
    shown = (await gql(query, {"id": rule_id}, token=admin))["data"]["ruleHits"]["nodes"]
    enqueued = [a for n in shown for a in n["actions"] if a["outcome"] == "WITHHELD"]
    assert [raw_id(str(a["caseId"])) for a in enqueued] == [waiting[0]["id"]]
    stats = """query($id: ID!, $period: PeriodInput) { ruleStats(ruleId: $id, period: $period) {
      versions { liveHits reviewsCreated reviewsSaved enqueued } } }"""
    period = {"start": (T0 - timedelta(hours=1)).isoformat(), "end": (T0 + timedelta(hours=1)).isoformat()}
    body = await gql(stats, {"id": rule_id, "period": period}, token=admin)
    assert body["data"]["ruleStats"]["versions"] == [
        {"liveHits": 2, "reviewsCreated": 1, "reviewsSaved": 1, "enqueued": 1}
    ]
    hidden = await fetch(db_url, "SELECT external_id, visibility FROM contents ORDER BY external_id")
    assert hidden[1]["visibility"] == "VISIBLE"  # v-2 was not removed


async def test_a_delayed_action_runs_once_when_due_even_after_a_restart(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory
) -> None:
    admin = await _world(gql, db_url)
    spam = await spam_queue(gql, admin)
    rule_id = await _live(
        gql, admin, coins('delay(10m, 2h, decide("REMOVE_CONTENT")), open_case(queue="spam", priority=60)')
    )
    ports = PostgresRunPorts(pool, sessions, MemoryCounterStore(), draw=lambda: 0.5)

    await run_rules(await rule_runtime.load_rules(pool, T0), [_posted("v-1")], ports, T0)

    due = T0 + timedelta(minutes=65)  # 10m + half of the 110m window
    scheduled, opened = await _hits(db_url)
    assert (scheduled["action"], scheduled["outcome"]) == ("DECIDE", "SCHEDULED")
    assert scheduled["reason"] == f"due at {due.isoformat()}"
    assert opened["outcome"] == "TAKEN"
    case = await fetch(db_url, "SELECT queue_id, priority FROM cases")
    assert [(str(c["queue_id"]), c["priority"]) for c in case] == [(str(raw_id(spam)), 60)]
    rows = await fetch(db_url, "SELECT due_at, state, rule_version FROM rule_delayed_actions")
    assert [(r["due_at"], r["state"], r["rule_version"]) for r in rows] == [(due, "PENDING", 3)]

    pending = "query($id: ID!) { rule(id: $id) { pendingDelayedActions } }"
    assert (await gql(pending, {"id": rule_id}, token=admin))["data"]["rule"]["pendingDelayedActions"] == 1

    first = DelayedActionRunner(pool, sessions)
    assert await first.run_due(due - timedelta(seconds=1)) == {}  # not yet
    assert await fetch(db_url, "SELECT id FROM decisions") == []

    restarted = DelayedActionRunner(pool, sessions)  # a new process: the action waited in the database
    ran = await restarted.run_due(due)
    assert [r.outcome for r in ran.values()] == [Outcome.TAKEN]
    decisions = await fetch(db_url, "SELECT decider_id, automated FROM decisions")
    assert [(d["decider_id"], d["automated"]) for d in decisions] == [(f"rule:{raw_id(rule_id)}:v3", True)]
    assert await first.run_due(due + timedelta(hours=3)) == {}  # once only
    assert len(await fetch(db_url, "SELECT id FROM decisions")) == 1
    rows = await fetch(db_url, "SELECT state, outcome, executed_at FROM rule_delayed_actions")
    assert (rows[0]["state"], json.loads(rows[0]["outcome"])["outcome"], rows[0]["executed_at"]) == (
        "DONE",
        "TAKEN",
        due,
    )
    assert (await _hits(db_url))[0]["outcome"] == "TAKEN"  # the hit shows what became of it
    assert (await gql(pending, {"id": rule_id}, token=admin))["data"]["rule"]["pendingDelayedActions"] == 0
    audited = await fetch(db_url, "SELECT DISTINCT actor_id FROM audit_events WHERE action = 'ruleAction'")
    assert {a["actor_id"] for a in audited} == {f"rule:{raw_id(rule_id)}:v3"}


async def test_a_delayed_action_of_a_rule_disabled_meanwhile_is_dropped(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory
) -> None:
    admin = await _world(gql, db_url)
    rule_id = await _live(gql, admin, coins('delay(1m, 1m, decide("REMOVE_CONTENT"))'))
    ports = PostgresRunPorts(pool, sessions, MemoryCounterStore(), draw=lambda: 0.0)
    await run_rules(await rule_runtime.load_rules(pool, T0), [_posted("v-1")], ports, T0)

    await mutate(gql, admin, TRANSITION, {"ruleId": rule_id, "state": "DISABLED"})
    ran = await DelayedActionRunner(pool, sessions).run_due(T0 + timedelta(minutes=1))

    assert [(r.outcome, r.reason) for r in ran.values()] == [(Outcome.DROPPED, "the rule is DISABLED now")]
    assert await fetch(db_url, "SELECT id FROM decisions") == []
    assert await fetch(db_url, "SELECT id FROM reports") == []
    rows = await fetch(db_url, "SELECT state FROM rule_delayed_actions")
    assert [r["state"] for r in rows] == ["DROPPED"]
    assert (await _hits(db_url))[0]["outcome"] == "DROPPED"


async def test_runners_side_by_side_run_each_delayed_action_once(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    accepted = []
    for n in range(4):  # one account each: their decisions touch no common record
        owner = await flows.account(gql, admin, f"creator-{n}")
        await flows.content(gql, admin, owner, f"v-{n}")
        event = Event(
            "content.posted",
            "US",
            {"account": f"creator-{n}", "content": f"v-{n}"},
            {"text": "free coins"},
            T0,
            f"k{n}",
        )
        accepted.append(Accepted(uuid.uuid4(), event, duplicate=False))
    then = 'delay(1m, 1m, decide("REMOVE_CONTENT")), delay(1m, 1m, label(account, "coins", 1d))'
    rule_id = await _live(gql, admin, coins(then))
    ports = PostgresRunPorts(pool, sessions, MemoryCounterStore(), draw=lambda: 0.0)
    await run_rules(await rule_runtime.load_rules(pool, T0), accepted, ports, T0)

    due = T0 + timedelta(minutes=1)
    one, other = DelayedActionRunner(pool, sessions), DelayedActionRunner(pool, sessions)
    ran = await asyncio.gather(one.run_due(due), other.run_due(due))

    assert not set(ran[0]) & set(ran[1])  # never the same action twice
    results = {**ran[0], **ran[1]}
    assert len(results) == 8
    assert {r.outcome for r in results.values()} == {Outcome.TAKEN}
    assert await one.run_due(due) == {}
    assert len(await fetch(db_url, "SELECT id FROM decisions")) == 4
    labels = await fetch(db_url, "SELECT entity_id, rule_version, expires_at FROM labels ORDER BY entity_id")
    assert [(r["entity_id"], r["rule_version"]) for r in labels] == [(f"creator-{n}", 3) for n in range(4)]
    assert {r["expires_at"] for r in labels} == {due + timedelta(days=1)}  # a day from when it ran
    labelled = await fetch(db_url, "SELECT actor_id FROM audit_events WHERE action = 'ruleLabel'")
    assert [a["actor_id"] for a in labelled] == [f"rule:{raw_id(rule_id)}:v3"] * 4
