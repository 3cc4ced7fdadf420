"""Rules running on submitted events over the real app: SHADOW records hits and does nothing, LIVE acts (labels
with expiry, automated reports that open cases, both citing the rule version), a daily cap withholds actions past
it, the region wall holds, and an edit reaches the rule sets without a restart."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from domain.services.rules import RuleState
from persistence import rule_runtime
from persistence.fast.sql import create_pool
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import NOW, SUBMIT, event, fetch
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import raw_id
from tests.integration.rules.helpers import CREATE, TRANSITION, UPDATE, mutate, rule_text, spam_queue
from tests.integration.tokens import issue_partner_token, issue_staff_token


def login(key: str, account: str = "u-1", region: str = "US", minutes: int = 0) -> dict[str, Any]:
    item = event(key, region=region, account=account, type="account.login", at=NOW + timedelta(minutes=minutes))
    item["attributes"] = {"ip": "203.0.113.7", "success": True}
    return item


async def _refresh_rule_sets() -> None:
    """What the caches' one-second poll does, now: the test does not wait on the clock."""
    for cache in list(rule_runtime._caches.values()):
        if not cache.closed:  # an earlier test's app and pool
            await cache.refresh(force=False)


async def _rule(gql: GraphQLClient, token: str, source: str, state: str, region: str = "US", **settings: Any) -> str:
    created = await mutate(gql, token, CREATE, {"region": region, "source": source, **settings})
    assert created["__typename"] == "RuleSuccess", created
    rule_id = str(created["rule"]["id"])
    for step in ("SHADOW", "LIVE")[: ("SHADOW", "LIVE").index(state) + 1]:
        await mutate(gql, token, TRANSITION, {"ruleId": rule_id, "state": step})
    await _refresh_rule_sets()
    return rule_id


async def _send(gql: GraphQLClient, token: str, events: list[dict[str, Any]]) -> list[int]:
    body = await gql(SUBMIT.replace("eventId duplicate", "eventId duplicate ruleHits"), {"events": events}, token=token)
    assert "errors" not in body, body
    return [r["ruleHits"] for r in body["data"]["submitEvents"]["results"]]


async def test_shadow_records_and_live_acts(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    rule_id = await _rule(gql, admin, rule_text(threshold=3), "SHADOW")

    assert await _send(gql, platform, [login("a"), login("b", minutes=1)]) == [0, 0]
    assert await _send(gql, platform, [login("c", minutes=2), login("eu", region="EU", minutes=2)]) == [1, 0]
    hits = await fetch(db_url, "SELECT mode, rule_version, subject_id, actions FROM rule_hits")
    assert [(h["mode"], h["rule_version"], h["subject_id"]) for h in hits] == [("SHADOW", 2, "u-1")]
    assert json.loads(hits[0]["actions"]) == [{"action": "LABEL", "outcome": "WITHHELD", "reason": "shadow"}]
    assert await fetch(db_url, "SELECT * FROM labels") == []

    await mutate(gql, admin, TRANSITION, {"ruleId": rule_id, "state": "LIVE"})
    await _refresh_rule_sets()
    assert await _send(gql, platform, [login("d", minutes=3), login("a", minutes=0)]) == [1, 0]  # "a": duplicate
    labels = await fetch(db_url, "SELECT entity_kind, entity_id, name, rule_version, expires_at FROM labels")
    assert [(r["entity_kind"], r["entity_id"], r["name"], r["rule_version"]) for r in labels] == [
        ("account", "u-1", "suspicious-logins", 3)
    ]
    assert labels[0]["expires_at"] is not None
    live = await fetch(db_url, "SELECT actions FROM rule_hits WHERE mode = 'LIVE'")
    assert json.loads(live[0]["actions"])[0]["outcome"] == "TAKEN"
    audited = await fetch(db_url, "SELECT actor_id FROM audit_events WHERE action = 'ruleLabel'")
    assert len(audited) == 1
    assert audited[0]["actor_id"].endswith(":v3")

    query = "query($id: ID!) { ruleHits(ruleId: $id, first: 5) { nodes { ruleVersion mode actions { outcome } } } }"
    body = await gql(query, {"id": rule_id}, token=admin)
    assert body["data"]["ruleHits"]["nodes"] == [
        {"ruleVersion": 3, "mode": "LIVE", "actions": [{"outcome": "TAKEN"}]},
        {"ruleVersion": 2, "mode": "SHADOW", "actions": [{"outcome": "WITHHELD"}]},
    ]
    analyst = await issue_staff_token(db_url, "analyst", "US")  # rules, not the records hits name
    assert (await gql(query, {"id": rule_id}, token=analyst))["data"]["ruleHits"] is None


async def test_a_live_rule_opens_a_case_citing_its_version_and_stops_at_its_daily_cap(
    gql: GraphQLClient, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    owner = await flows.account(gql, admin, "creator-1")
    for video in ("v-1", "v-2"):
        await flows.content(gql, admin, owner, video)
    source = (
        'rule "coins"\non content.posted\nin US\npolicy SPAM\nwhen contains(lower(text), "free coins")\n'
        'then open_case(queue="spam", priority=80)\n'
    )
    spam = await spam_queue(gql, admin)
    await _rule(gql, admin, source, "LIVE", dailyActionCap=1)
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    posts = []
    for key, video in (("p1", "v-1"), ("p2", "v-2")):
        post = event(key, account="creator-1", text="FREE COINS here")
        post["entities"] = [{"kind": "ACCOUNT", "externalId": "creator-1"}, {"kind": "CONTENT", "externalId": video}]
        posts.append(post)
    assert await _send(gql, platform, posts) == [1, 1]
    reports = await fetch(db_url, "SELECT reporter_id, source, text FROM reports ORDER BY text")
    assert len(reports) == 2  # one action taken, one withheld past the cap and enqueued: both before a person
    assert {r["source"] for r in reports} == {"AUTOMATED"}
    assert all(r["reporter_id"].startswith("rule:") and r["reporter_id"].endswith(":v3") for r in reports)
    cases = await fetch(db_url, "SELECT id, queue_id, priority, priority_floor FROM cases")
    assert {(str(c["queue_id"]), c["priority"], c["priority_floor"]) for c in cases} == {
        (str(raw_id(spam)), 80, 80)
    }  # the named queue, with the rule's priority
    outcomes = [
        json.loads(h["actions"])[0] for h in await fetch(db_url, "SELECT actions FROM rule_hits ORDER BY created_at")
    ]
    assert sorted(o["outcome"] for o in outcomes) == ["TAKEN", "WITHHELD"]
    withheld = next(o for o in outcomes if o["outcome"] == "WITHHELD")
    assert withheld["reason"] == "daily cap"
    assert withheld["case_id"] in {str(c["id"]) for c in cases}


async def test_an_edit_reaches_the_rule_sets_within_the_poll(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    rule_id = await _rule(gql, admin, rule_text(threshold=3), "SHADOW")
    pool = await create_pool(db_url, size=2)
    cache = rule_runtime.RuleSetCache(pool, poll=0.05)
    try:
        first = await cache.get()
        cache.rebuilt.clear()
        assert [(r.version, r.state) for r in first.rules.values()] == [(2, RuleState.SHADOW)]
        await mutate(gql, admin, UPDATE, {"ruleId": rule_id, "source": rule_text(threshold=9)})
        async with asyncio.timeout(30):  # rebuilt by the polling task, not by this test
            await cache.rebuilt.wait()
        assert [r.version for r in (await cache.get()).rules.values()] == [3]
    finally:
        cache.close()
        await pool.close()


async def test_an_entity_a_human_decided_on_is_snoozed(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    policy = await flows.policy(gql, admin, "SPAM")
    owner = await flows.account(gql, admin, "creator-2")
    reviewed = await flows.content(gql, admin, owner, "v-reviewed")
    await flows.content(gql, admin, owner, "v-fresh")
    case = (await flows.report(gql, admin, reviewed, policy))["case"]["id"]
    decided = await flows.decide(gql, admin, case, policy, verdict="NOT_VIOLATING")
    assert decided["__typename"] == "DecideCaseSuccess", decided
    source = (
        'rule "coins"\non content.posted\nin US\npolicy SPAM\nwhen contains(lower(text), "free coins")\n'
        'then open_case(queue="spam", priority=80)\n'
    )
    await spam_queue(gql, admin)
    await _rule(gql, admin, source, "LIVE")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    posts = []
    for key, video in (("r1", "v-reviewed"), ("r2", "v-fresh")):
        post = event(key, account="creator-2", text="free coins")
        post["entities"] = [{"kind": "ACCOUNT", "externalId": "creator-2"}, {"kind": "CONTENT", "externalId": video}]
        posts.append(post)
    assert await _send(gql, platform, posts) == [1, 1]
    rows = await fetch(db_url, "SELECT subject_id, actions FROM rule_hits ORDER BY subject_id")
    outcomes = {r["subject_id"]: json.loads(r["actions"])[0] for r in rows}
    assert outcomes["v-reviewed"] == {"action": "OPEN_CASE", "outcome": "WITHHELD", "reason": "snoozed"}
    assert outcomes["v-fresh"]["outcome"] == "TAKEN"


async def test_a_live_rule_decides_as_an_automated_decision_citing_its_version(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    owner = await flows.account(gql, admin, "creator-3", region="EU")  # EU: the decision has a DSA statement
    await flows.content(gql, admin, owner, "v-spam")
    source = (
        'rule "remove-coins"\non content.posted\nin EU\npolicy SPAM\nwhen contains(lower(text), "free coins")\n'
        'then decide("REMOVE_CONTENT")\n'
    )
    await _rule(gql, admin, source, "LIVE", region="EU")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "EU")
    post = event("d1", region="EU", account="creator-3", text="free coins")
    post["entities"] = [{"kind": "ACCOUNT", "externalId": "creator-3"}, {"kind": "CONTENT", "externalId": "v-spam"}]
    assert await _send(gql, platform, [post]) == [1]
    decisions = await fetch(db_url, "SELECT id, verdict, automated, decider_id, rationale FROM decisions")
    assert len(decisions) == 1
    decision = decisions[0]
    assert (decision["verdict"], decision["automated"]) == ("VIOLATING", True)
    assert decision["decider_id"].startswith("rule:")
    assert decision["decider_id"].endswith(":v3")  # the version in force: created, SHADOW, LIVE
    statement = await fetch(db_url, "SELECT fields FROM statements_of_reasons WHERE decision_id = $1", decision["id"])
    assert json.loads(statement[0]["fields"])["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    hit = json.loads((await fetch(db_url, "SELECT actions FROM rule_hits"))[0]["actions"])[0]
    assert (hit["action"], hit["outcome"]) == ("DECIDE", "TAKEN")
    visibility = await fetch(db_url, "SELECT visibility FROM contents WHERE external_id = 'v-spam'")
    assert visibility[0]["visibility"] != "VISIBLE"
