"""The journey of an auto-moderation lead (issue 22's done criterion), over the real app and database: define a
keyword-and-counter rule in SHADOW; send events; see hits and no cases; decide some of those subjects by hand;
read the rule's precision; backtest it on last week; switch it LIVE; new events open cases and decide others,
citing the rule version, with automated DSA statements; an EU rule never sees US events. README.md's Rules
section walks the same steps."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import asyncpg

from api.graphql.ids import parse_any, to_global_id
from api.services.backtest_jobs import BacktestRunner
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import NOW, SUBMIT, fetch
from tests.integration.lifecycle import flows
from tests.integration.rules.helpers import CREATE, TRANSITION, mutate, spam_queue
from tests.integration.rules.test_named_lists import CREATE_LIST
from tests.integration.rules.test_rules_on_events import _refresh_rule_sets
from tests.integration.rules.test_stats import QUEUE, RATE, STATS, review
from tests.integration.tokens import issue_partner_token, issue_staff_token

BURST = """rule "scam-burst"
on content.posted
in EU
policy SPAM
when has_keyword(text, "scam-phrases") and count(posts, account, 1h) >= 2
then decide("REMOVE_CONTENT")
"""
FIRST = """rule "scam-first-post"
on content.posted
in EU
policy SPAM
when has_keyword(text, "scam-phrases") and count(posts, account, 1h) < 2
then open_case(queue="spam", priority=80)
"""
HITS = "query($id: ID!) { ruleHits(ruleId: $id, first: 100) { nodes { mode subjectId actions { outcome } } } }"
BACKTEST = """mutation($input: BacktestRuleInput!) { backtestRule(input: $input) {
  __typename ... on BacktestRuleSuccess { backtest { id } } ... on Error { code message } } }"""
READ_BACKTEST = """query($id: ID!) { ruleBacktest(id: $id) {
  state scanned hits precision { value support confirmed } sample { subjectId actions } } }"""


def post(key: str, account: str, content: str, text: str, *, region: str = "EU", minutes: int = 0) -> dict[str, Any]:
    return {
        "type": "content.posted",
        "region": region,
        "entities": [{"kind": "ACCOUNT", "externalId": account}, {"kind": "CONTENT", "externalId": content}],
        "occurredAt": (NOW + timedelta(minutes=minutes)).isoformat(),
        "idempotencyKey": key,
        "attributes": {"text": text},
    }


async def send(gql: GraphQLClient, token: str, events: list[dict[str, Any]]) -> list[int]:
    body = await gql(SUBMIT.replace("eventId duplicate", "eventId duplicate ruleHits"), {"events": events}, token=token)
    assert "errors" not in body, body
    return [r["ruleHits"] for r in body["data"]["submitEvents"]["results"]]


async def rule(gql: GraphQLClient, token: str, source: str) -> str:
    if 'queue="spam"' in source:
        await spam_queue(gql, token, "EU")
    created = await mutate(gql, token, CREATE, {"region": "EU", "source": source})
    assert created["__typename"] == "RuleSuccess", created
    rule_id = str(created["rule"]["id"])
    shadow = await mutate(gql, token, TRANSITION, {"ruleId": rule_id, "state": "SHADOW"})
    assert shadow["rule"]["state"] == "SHADOW"
    return rule_id


async def test_the_auto_moderation_leads_journey(gql: GraphQLClient, db_url: str, pool: asyncpg.Pool) -> None:
    lead = await issue_staff_token(db_url, "admin", "EU")
    moderator = await issue_staff_token(db_url, "moderator", "EU")
    reviewer = await issue_staff_token(db_url, "qa_reviewer", "EU")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    policy = await flows.policy(gql, await issue_staff_token(db_url, "admin", "*"), "SPAM")  # policies are global
    posts: dict[str, str] = {}  # platform content id -> Vigil content id
    owners: list[str] = []
    for n in range(14):
        owner = await flows.account(gql, lead, f"eu-user-{n}", region="EU")
        owners.append(owner)
        for i in range(3):
            posts[f"c-{n}-{i}"] = await flows.content(gql, lead, owner, f"c-{n}-{i}")

    # 1. A keyword list and a keyword-and-counter rule, in SHADOW, every hit sampled for review.
    listed = await mutate(
        gql, lead, CREATE_LIST, {"region": "EU", "name": "scam-phrases", "kind": "KEYWORD", "entries": ["free coins"]}
    )
    assert listed["__typename"] == "NamedListSuccess", listed
    burst = await rule(gql, lead, BURST)
    first = await rule(gql, lead, FIRST)
    assert (await mutate(gql, lead, RATE, {"ruleId": burst, "sampleRate": 1.0}))["sampleRate"] == 1.0
    await _refresh_rule_sets()

    # 2. Events: twelve accounts post three times each within minutes ("FR33 c0ins" reads "free coins"), one posts
    # innocently; the same text in the US meets no EU rule.
    events = [
        post(f"e-{n}-{i}", f"eu-user-{n}", f"c-{n}-{i}", "FR33 c0ins here!" if n < 12 else "hello", minutes=-30 + i)
        for n in range(13)
        for i in range(2)
    ]
    events.append(post("us-1", "us-user", "us-c", "free coins", region="US"))
    hits = await send(gql, platform, events)
    assert hits[:-1] == [1, 1] * 12 + [0, 0]  # the first post meets scam-first-post, the second scam-burst
    assert hits[-1] == 0

    # 3. Hits, and no cases: SHADOW does nothing.
    shadow = (await gql(HITS, {"id": burst}, token=lead))["data"]["ruleHits"]["nodes"]
    assert len(shadow) == 12
    assert {h["mode"] for h in shadow} == {"SHADOW"}
    assert {a["outcome"] for h in shadow for a in h["actions"]} == {"WITHHELD"}
    assert await fetch(db_url, "SELECT id FROM cases") == []
    assert await fetch(db_url, "SELECT id FROM rule_hits WHERE region = 'US'") == []

    # 4. People decide some of those subjects by hand; a reviewer judges the rule's audit sample.
    for n, verdict in ((0, "VIOLATING"), (1, "VIOLATING"), (2, "NOT_VIOLATING")):
        case = (await flows.report(gql, lead, posts[f"c-{n}-1"], policy))["case"]["id"]  # a user report, say
        decided = await flows.decide(gql, moderator, case, policy, verdict=verdict)
        assert decided["__typename"] == "DecideCaseSuccess", decided
    queue = (await gql(QUEUE, {"id": burst}, token=reviewer))["data"]["ruleAuditQueue"]["nodes"]
    assert len(queue) == 12
    for n, hit in enumerate(queue):
        assert (await review(gql, reviewer, hit["id"], n != 0))["__typename"] == "ReviewRuleHitSuccess"

    # 5. The rule's precision: too few reviews for a figure yet (12 of 20); the biased figure beside it.
    (version,) = (await gql(STATS, {"id": burst}, token=lead))["data"]["ruleStats"]["versions"]
    assert (version["hits"], version["auditSampled"], version["auditReviewed"]) == (12, 12, 12)
    assert version["precision"]["value"] is None
    assert version["precision"]["reason"] == "12 of the 20 judged hits needed for a figure"
    assert (version["biasedPrecision"]["support"], version["biasedPrecision"]["confirmed"]) == (3, 2)

    # 6. Backtest it on last week: the same twelve hits, judged against those decisions.
    started = await gql(BACKTEST, {"input": {"ruleId": burst}}, token=lead)
    backtest = started["data"]["backtestRule"]["backtest"]["id"]
    runner = BacktestRunner(pool, pause=0)
    assert await runner.claim(uuid.UUID(_raw(backtest))) is not None
    await runner.run(uuid.UUID(_raw(backtest)))
    done = (await gql(READ_BACKTEST, {"id": backtest}, token=lead))["data"]["ruleBacktest"]
    assert (done["state"], done["hits"]) == ("COMPLETED", 12)
    assert (done["precision"]["support"], done["precision"]["confirmed"]) == (3, 2)
    assert {a for h in done["sample"] for a in h["actions"]} == {"DECIDE"}

    # 7. LIVE: new posts open cases (the first post of a burst) and decide others (the second), as the rule.
    for rule_id in (burst, first):
        assert (await mutate(gql, lead, TRANSITION, {"ruleId": rule_id, "state": "LIVE"}))["rule"]["state"] == "LIVE"
    await _refresh_rule_sets()
    fresh = [post("n-1", "eu-user-5", "c-5-2", "free coins"), post("n-2", "eu-user-6", "c-6-2", "free coins")]
    assert await send(gql, platform, fresh) == [1, 1]  # eu-user-5/6 posted twice in the hour already: a burst
    later = [post("m-1", "eu-user-13", "c-13-0", "free coins")]  # a first scam post: a case for a person
    assert await send(gql, platform, later) == [1]
    automated = await fetch(
        db_url,
        "SELECT d.decider_id, d.automated, c.external_id, s.fields FROM decisions d "
        "JOIN contents c ON c.id = d.subject_id JOIN statements_of_reasons s ON s.decision_id = d.id "
        "WHERE d.automated ORDER BY c.external_id",
    )
    burst_version = (await gql(STATS, {"id": burst}, token=lead))["data"]["ruleStats"]["versions"][0]["version"]
    assert [r["external_id"] for r in automated] == ["c-5-2", "c-6-2"]
    assert {r["decider_id"] for r in automated} == {f"rule:{_raw(burst)}:v{burst_version}"}
    statements = [json.loads(r["fields"]) for r in automated]
    assert {(s["automated_decision"], s["automated_detection"]) for s in statements} == {
        ("AUTOMATED_DECISION_FULLY", "Yes")
    }
    opened = await fetch(
        db_url,
        "SELECT ca.state, r.reporter_id FROM cases ca JOIN reports r ON r.case_id = ca.id "
        "JOIN contents c ON c.id = ca.subject_id WHERE c.external_id = 'c-13-0'",
    )
    assert [(o["state"], o["reporter_id"].rsplit(":", 1)[0]) for o in opened] == [("OPEN", f"rule:{_raw(first)}")]
    # An appeal overturns one of the rule's decisions: the rule's figures say so.
    (decision,) = await fetch(
        db_url,
        "SELECT d.id FROM decisions d JOIN contents c ON c.id = d.subject_id WHERE d.automated "
        "AND c.external_id = 'c-5-2'",
    )
    appellant = await issue_partner_token(db_url, "platform-eu", ["platform_service", "cases:read"], "EU")
    filed = await flows.file_appeal(gql, appellant, to_global_id("Decision", decision["id"]), owners[5])
    assert filed["__typename"] == "FileAppealSuccess", filed
    overturned = await flows.decide_appeal(gql, lead, filed["appeal"]["id"], "OVERTURNED")
    assert overturned["__typename"] == "DecideAppealSuccess", overturned
    (live,) = [
        v for v in (await gql(STATS, {"id": burst}, token=lead))["data"]["ruleStats"]["versions"] if v["liveHits"]
    ]
    assert (live["liveHits"], live["reviewsSaved"], live["overturnedOnAppeal"]) == (2, 2, 1)
    (opener,) = (await gql(STATS, {"id": first}, token=lead))["data"]["ruleStats"]["versions"][:1]
    assert (opener["liveHits"], opener["reviewsCreated"], opener["reviewsSaved"]) == (1, 1, 0)

    # 8. The region wall: an EU rule never saw the US event, and a US reader does not see the EU rule.
    assert await fetch(db_url, "SELECT id FROM rule_hits WHERE region <> 'EU'") == []
    us_lead = await issue_staff_token(db_url, "admin", "US")
    assert (await gql(STATS, {"id": burst}, token=us_lead))["data"]["ruleStats"] is None


def _raw(global_id: str) -> str:
    parsed = parse_any(global_id)
    assert parsed is not None
    return parsed[1]
