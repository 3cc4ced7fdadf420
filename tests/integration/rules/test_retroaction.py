"""``retroactRule`` applies every action of a backtested version, not only ``decide``: labels on the entities the
matched events name (``rules:write``), cases routed to an ``open_case``'s queue, a ``hold``'s cases left to people,
each once, in one transaction with its audit records; a refused run writes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg

from api.services.backtest_jobs import BacktestRunner
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import NOW, SUBMIT, event, fetch
from tests.integration.lifecycle import flows
from tests.integration.rules.helpers import rule_text, spam_queue
from tests.integration.rules.test_backtests import backtest, draft, logins, read, uuid_of
from tests.integration.tokens import issue_partner_token, issue_staff_token

RETRO = """mutation($input: RetroactRuleInput!) { retroactRule(input: $input) {
  __typename ... on RetroactRuleSuccess { cases labels snoozed job { id } } ... on Error { code field message } } }"""


async def completed(gql: GraphQLClient, token: str, pool: asyncpg.Pool, rule_id: str) -> str:
    job: str = (await backtest(gql, token, rule_id))["backtest"]["id"]
    runner = BacktestRunner(pool, pause=0)
    assert await runner.claim(uuid_of(job)) is not None
    await runner.run(uuid_of(job))
    assert (await read(gql, token, job) or {})["state"] == "COMPLETED"
    return job


async def retro(gql: GraphQLClient, token: str, job: str, rationale: str = "past wave") -> dict[str, Any]:
    body = await gql(RETRO, {"input": {"backtestId": job, "rationale": rationale}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["retroactRule"]
    return result


async def counts(db_url: str) -> dict[str, int]:
    rows = await fetch(
        db_url,
        "SELECT (SELECT count(*) FROM labels) AS labels, (SELECT count(*) FROM reports) AS reports, "
        "(SELECT count(*) FROM bulk_jobs) AS jobs, (SELECT count(*) FROM audit_events) AS audit",
    )
    return dict(rows[0])


async def test_a_label_rule_applied_to_the_past_labels_each_matched_account_once(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    rule_id = await draft(gql, admin, rule_text(threshold=2))  # label(account, "suspicious-logins", 1d)
    await logins(gql, db_url)  # u-1: five logins within 40 minutes, u-2: two, three days ago
    job = await completed(gql, admin, pool, rule_id)

    moderator = await issue_staff_token(db_url, "moderator", "US")  # decides cases, reads no rules
    assert (await retro(gql, moderator, job))["code"] == "NOT_FOUND"
    before = await counts(db_url)
    for rationale in ("  ", "x" * 5_001):
        bad = await retro(gql, admin, job, rationale)
        assert (bad["code"], bad["field"]) == ("INVALID_INPUT", "rationale")
    assert await counts(db_url) == before

    manager = await issue_staff_token(db_url, "policy_manager", "US")  # rules:write, not cases:decide
    applied = await retro(gql, manager, job)
    assert applied == {"__typename": "RetroactRuleSuccess", "cases": 0, "labels": 2, "snoozed": 0, "job": None}
    labels = await fetch(
        db_url, "SELECT entity_kind, entity_id, name, rule_version, expires_at, version FROM labels ORDER BY entity_id"
    )
    assert [(r["entity_kind"], r["entity_id"], r["name"], r["rule_version"], r["version"]) for r in labels] == [
        ("account", "u-1", "suspicious-logins", 1, 1),
        ("account", "u-2", "suspicious-logins", 1, 1),
    ]
    # expiring a day after the run, not after the past events
    assert all(timedelta(hours=23) < r["expires_at"] - NOW < timedelta(hours=25) for r in labels)
    audit = await fetch(
        db_url,
        "SELECT action, actor_kind, reason FROM audit_events WHERE reason = 'past wave' ORDER BY seq",
    )
    assert [(a["action"], a["actor_kind"], a["reason"]) for a in audit] == [
        ("ruleLabel", "STAFF", "past wave"),
        ("ruleLabel", "STAFF", "past wave"),
        ("retroactRule", "STAFF", "past wave"),
    ]
    after = await counts(db_url)
    assert (after["labels"], after["reports"], after["jobs"]) == (2, before["reports"], before["jobs"])
    assert (await read(gql, admin, job) or {})["retroJobId"] is None
    marked = await fetch(db_url, "SELECT retroacted_at FROM rule_backtests")
    assert marked[0]["retroacted_at"] is not None

    again = await retro(gql, manager, job)
    assert again["code"] == "CONFLICT"
    assert await counts(db_url) == after


async def coins(gql: GraphQLClient, db_url: str, admin: str) -> None:
    """Three posts of "free coins" by creator-b two days ago, on contents Vigil knows, and a "hello"."""
    await flows.policy(gql, admin, "SPAM")
    owner = await flows.account(gql, admin, "creator-b")
    for i in range(4):
        await flows.content(gql, admin, owner, f"v-{i}")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    posts = []
    for i, text in enumerate(("free coins", "FREE COINS!", "free coins", "hello")):
        post = event(f"p{i}", account="creator-b", text=text, at=NOW - timedelta(days=2, minutes=i))
        post["entities"] = [{"kind": "ACCOUNT", "externalId": "creator-b"}, {"kind": "CONTENT", "externalId": f"v-{i}"}]
        posts.append(post)
    assert "errors" not in await gql(SUBMIT, {"events": posts}, token=platform)


def coins_rule(then: str) -> str:
    head = 'rule "coins"\non content.posted\nin US\npolicy SPAM\nwhen contains(lower(text), "free coins")\n'
    return f"{head}then {then}\n"


async def test_open_case_applied_to_the_past_routes_each_matched_subjects_case_to_its_queue(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await coins(gql, db_url, admin)
    queue = await spam_queue(gql, admin)
    rule_id = await draft(gql, admin, coins_rule('delay(1h, 2h, open_case(queue="spam", priority=80))'))
    job = await completed(gql, admin, pool, rule_id)

    applied = await retro(gql, admin, job)
    assert applied == {"__typename": "RetroactRuleSuccess", "cases": 3, "labels": 0, "snoozed": 0, "job": None}
    cases = await fetch(
        db_url,
        "SELECT c.external_id, k.queue_id, k.priority, k.state FROM cases k JOIN contents c ON c.id = k.subject_id "
        "ORDER BY c.external_id",
    )
    assert [r["external_id"] for r in cases] == ["v-0", "v-1", "v-2"]
    assert all(str(r["queue_id"]) == str(uuid_of(queue)) and r["priority"] >= 80 for r in cases)
    assert {r["state"] for r in cases} == {"OPEN"}  # for people: nothing decided
    assert await fetch(db_url, "SELECT id FROM decisions") == []
    reports = await fetch(db_url, "SELECT reporter_id, source FROM reports")
    assert len(reports) == 3
    assert all(r["source"] == "AUTOMATED" and r["reporter_id"].endswith(":v1") for r in reports)


async def test_a_queue_gone_since_fails_the_whole_run_and_writes_nothing(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await coins(gql, db_url, admin)
    await spam_queue(gql, admin)
    rule_id = await draft(gql, admin, coins_rule('open_case(queue="spam", priority=80)'))
    job = await completed(gql, admin, pool, rule_id)
    await fetch(db_url, "UPDATE queues SET name = 'renamed' WHERE name = 'spam' RETURNING id")
    before = await counts(db_url)

    refused = await retro(gql, admin, job)
    assert (refused["code"], refused["field"]) == ("NOT_FOUND", "queue")
    assert await counts(db_url) == before
    assert (await fetch(db_url, "SELECT retroacted_at FROM rule_backtests"))[0]["retroacted_at"] is None
    assert await fetch(db_url, "SELECT id FROM cases") == []


async def test_hold_and_label_together_need_only_rules_write_and_do_both(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await coins(gql, db_url, admin)
    rule_id = await draft(gql, admin, coins_rule('hold(), label(account, "coin-spammer", 7d)'))
    job = await completed(gql, admin, pool, rule_id)
    analyst = await issue_staff_token(db_url, "analyst", "US")  # reads and backtests rules, may not act
    body = await gql(RETRO, {"input": {"backtestId": job, "rationale": "x"}}, token=analyst)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    manager = await issue_staff_token(db_url, "policy_manager", "US")
    applied = await retro(gql, manager, job)
    assert applied == {"__typename": "RetroactRuleSuccess", "cases": 3, "labels": 1, "snoozed": 0, "job": None}
    labels = await fetch(db_url, "SELECT entity_kind, entity_id, name FROM labels")
    assert [tuple(r.values()) for r in labels] == [("account", "creator-b", "coin-spammer")]
    assert len(await fetch(db_url, "SELECT id FROM cases WHERE state = 'OPEN'")) == 3


async def test_a_version_that_decides_needs_cases_decide_beside_rules_write(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await coins(gql, db_url, admin)
    rule_id = await draft(gql, admin, coins_rule('decide("REMOVE_CONTENT"), label(account, "coin-spammer", 7d)'))
    job = await completed(gql, admin, pool, rule_id)
    manager = await issue_staff_token(db_url, "policy_manager", "US")  # rules:write, not cases:decide
    before = await counts(db_url)
    refused = await retro(gql, manager, job)
    assert (refused["code"], refused["message"]) == ("FORBIDDEN", "you may not decide cases in region US")
    assert await counts(db_url) == before

    applied = await retro(gql, admin, job)
    assert (applied["cases"], applied["labels"]) == (3, 1)
    assert applied["job"] is not None
    assert (await read(gql, admin, job) or {})["retroJobId"] == applied["job"]["id"]


async def test_a_subject_snoozed_for_the_rule_is_left_alone_labels_included(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    rule_id = await draft(gql, admin, rule_text(threshold=2))
    await logins(gql, db_url)
    job = await completed(gql, admin, pool, rule_id)
    await snooze(db_url, rule_id, "u-2")  # a reviewer judged the rule wrong on u-2, as a LIVE run would respect
    applied = await retro(gql, admin, job)
    assert (applied["labels"], applied["snoozed"]) == (1, 1)
    assert [r["entity_id"] for r in await fetch(db_url, "SELECT entity_id FROM labels")] == ["u-1"]

    other = await completed(gql, admin, pool, rule_id)
    await snooze(db_url, rule_id, "u-1")
    refused = await retro(gql, admin, other)
    assert (refused["code"], refused["message"]) == (
        "INVALID_STATE",
        "every subject the backtest matched is snoozed now",
    )


async def snooze(db_url: str, rule_id: str, account: str) -> None:
    """What ``reviewRuleHit`` with ``snoozeDays`` leaves: the rule snoozed on the account for 30 days."""
    await fetch(
        db_url,
        "INSERT INTO rule_snoozes (rule_id, region, entity_kind, entity_id, until, author_id, created_at) "
        "VALUES ($1, 'US', 'account', $2, now() + interval '30 days', 'staff:reviewer', now())",
        uuid_of(rule_id),
        account,
    )
