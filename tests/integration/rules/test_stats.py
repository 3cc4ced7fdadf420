"""Measured quality of a rule (issue 22 point 4): a deterministic audit sample of its hits (SHADOW and LIVE alike)
goes to human review, precision comes from the reviewed sample with a 95% Wilson interval once it has the minimum
support, beside the biased figure from subjects a person decided later; ruleStats and /metrics show them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from api.graphql.ids import parse_any, to_global_id
from domain.qa import sample_bucket
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import SUBMIT, event, fetch
from tests.integration.lifecycle import flows
from tests.integration.observability.test_metrics import scrape
from tests.integration.rules.helpers import CREATE, TRANSITION, mutate, spam_queue
from tests.integration.rules.test_rules_on_events import _refresh_rule_sets
from tests.integration.tokens import issue_partner_token, issue_staff_token

COINS = (
    'rule "coins"\non content.posted\nin US\npolicy SPAM\nwhen contains(lower(text), "free coins")\n'
    'then open_case(queue="spam", priority=80)\n'
)
STATS = """
query($id: ID!) { ruleStats(ruleId: $id) { versions {
  version hits liveHits sampleRate auditSampled auditReviewed overturnedOnAppeal reviewsCreated reviewsSaved
  precision { value low high support confirmed minimumSupport reason }
  biasedPrecision { value support confirmed reason }
} } }
"""
QUEUE = "query($id: ID) { ruleAuditQueue(ruleId: $id, first: 100) { nodes { id subjectId } } }"
PAGE = """query($id: ID, $after: String) { ruleAuditQueue(ruleId: $id, first: 3, after: $after) {
  nodes { id } edges { cursor } pageInfo { hasNextPage } } }"""
REVIEW = """mutation($input: ReviewRuleHitInput!) { reviewRuleHit(input: $input) {
  __typename ... on ReviewRuleHitSuccess { correct snoozedUntil } ... on Error { code field } } }"""
RATE = """mutation($input: SetRuleAuditRateInput!) { setRuleAuditRate(input: $input) {
  __typename ... on SetRuleAuditRateSuccess { fromVersion sampleRate } ... on Error { code field } } }"""


async def shadow_rule(gql: GraphQLClient, token: str, source: str = COINS, region: str = "US") -> str:
    if 'queue="spam"' in source:
        await spam_queue(gql, token, region)
    created = await mutate(gql, token, CREATE, {"region": region, "source": source})
    assert created["__typename"] == "RuleSuccess", created
    rule_id = str(created["rule"]["id"])
    await mutate(gql, token, TRANSITION, {"ruleId": rule_id, "state": "SHADOW"})
    await _refresh_rule_sets()
    return rule_id


async def send(gql: GraphQLClient, token: str, events: list[dict[str, Any]]) -> None:
    body = await gql(SUBMIT, {"events": events}, token=token)
    assert "errors" not in body, body


def posts(prefix: str, n: int, text: str = "FREE COINS now", region: str = "US") -> list[dict[str, Any]]:
    return [event(f"{prefix}{i}", account=f"acct-{prefix}{i}", text=text, region=region) for i in range(n)]


async def stats(gql: GraphQLClient, token: str, rule_id: str) -> list[dict[str, Any]]:
    body = await gql(STATS, {"id": rule_id}, token=token)
    assert "errors" not in body, body
    versions: list[dict[str, Any]] = body["data"]["ruleStats"]["versions"]
    return versions


async def review(gql: GraphQLClient, token: str, hit: str, correct: bool, **extra: Any) -> dict[str, Any]:
    body = await gql(REVIEW, {"input": {"hitId": hit, "correct": correct, **extra}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["reviewRuleHit"]
    return result


async def test_the_sample_is_the_hash_of_the_hit_id_below_the_versions_rate(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    rule_id = await shadow_rule(gql, admin)
    rate = await gql(RATE, {"input": {"ruleId": rule_id, "sampleRate": 0.3}}, token=admin)
    assert rate["data"]["setRuleAuditRate"] == {
        "__typename": "SetRuleAuditRateSuccess",
        "fromVersion": 2,
        "sampleRate": 0.3,
    }
    bad = await gql(RATE, {"input": {"ruleId": rule_id, "sampleRate": 1.5}}, token=admin)
    assert bad["data"]["setRuleAuditRate"] == {
        "__typename": "InvalidInputError",
        "code": "INVALID_INPUT",
        "field": "sampleRate",
    }
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    await send(gql, platform, posts("s", 40))
    ids = [uuid.UUID(str(r["id"])) for r in await fetch(db_url, "SELECT id FROM rule_hits")]
    expected = sum(1 for i in ids if sample_bucket(i) < 3000)
    assert 0 < expected < 40
    (version,) = await stats(gql, admin, rule_id)
    assert (version["version"], version["hits"], version["liveHits"]) == (2, 40, 0)
    assert (version["sampleRate"], version["auditSampled"]) == (0.3, expected)
    qa = await issue_staff_token(db_url, "qa_reviewer", "US")
    queue = (await gql(QUEUE, {"id": rule_id}, token=qa))["data"]["ruleAuditQueue"]["nodes"]
    assert sorted(parse_any(h["id"])[1] for h in queue) == sorted(str(i) for i in ids if sample_bucket(i) < 3000)
    paged: list[str] = []
    after = None
    while True:
        page = (await gql(PAGE, {"id": rule_id, "after": after}, token=qa))["data"]["ruleAuditQueue"]
        paged += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["edges"][-1]["cursor"]
    assert paged == [h["id"] for h in queue]  # oldest first, page after page
    outside = next(i for i in ids if sample_bucket(i) >= 3000)
    refused = await review(gql, qa, to_global_id("RuleHit", outside), True)
    assert refused == {"__typename": "InvalidStateError", "code": "INVALID_STATE", "field": "hitId"}


async def test_precision_from_the_reviewed_sample_with_its_interval_and_the_biased_figure_beside(
    gql: GraphQLClient, http: httpx.AsyncClient, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    policy = await flows.policy(gql, admin, "SPAM")
    rule_id = await shadow_rule(gql, admin)
    await mutate(gql, admin, RATE, {"ruleId": rule_id, "sampleRate": 1.0})
    owner = await flows.account(gql, admin, "creator-q")
    known = [await flows.content(gql, admin, owner, f"p-k{i}") for i in range(3)]
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    await send(gql, platform, posts("k", 3) + posts("h", 22))

    (before,) = await stats(gql, admin, rule_id)
    assert before["precision"] == {
        "value": None,
        "low": None,
        "high": None,
        "support": 0,
        "confirmed": 0,
        "minimumSupport": 20,
        "reason": "0 of the 20 judged hits needed for a figure",
    }
    # People decide two of the three subjects Vigil knows: VIOLATING, then NOT_VIOLATING (the biased figure).
    for subject, verdict in zip(known[:2], ("VIOLATING", "NOT_VIOLATING"), strict=True):
        case = (await flows.report(gql, admin, subject, policy))["case"]["id"]
        assert (await flows.decide(gql, admin, case, policy, verdict=verdict))["__typename"] == "DecideCaseSuccess"

    qa = await issue_staff_token(db_url, "qa_reviewer", "US")
    eu_qa = await issue_staff_token(db_url, "qa_reviewer", "EU")
    queue = (await gql(QUEUE, {"id": rule_id}, token=qa))["data"]["ruleAuditQueue"]["nodes"]
    assert len(queue) == 25
    assert (await gql(QUEUE, {"id": rule_id}, token=eu_qa))["data"]["ruleAuditQueue"]["nodes"] == []
    walled = await review(gql, eu_qa, queue[0]["id"], True)
    assert walled == {"__typename": "NotFoundError", "code": "NOT_FOUND", "field": "hitId"}
    for n, hit in enumerate(queue[:19]):
        assert (await review(gql, qa, hit["id"], n >= 2))["__typename"] == "ReviewRuleHitSuccess"
    again = await review(gql, qa, queue[0]["id"], True)
    assert again == {"__typename": "ConflictError", "code": "CONFLICT", "field": "hitId"}
    (short,) = await stats(gql, admin, rule_id)
    assert short["precision"]["value"] is None
    assert short["precision"]["support"] == 19
    assert (await review(gql, qa, queue[19]["id"], True))["__typename"] == "ReviewRuleHitSuccess"

    (version,) = await stats(gql, admin, rule_id)
    assert version["auditSampled"] == 25
    assert version["auditReviewed"] == 20
    precision = version["precision"]
    assert (precision["value"], precision["support"], precision["confirmed"], precision["reason"]) == (
        0.9,
        20,
        18,
        None,
    )
    assert round(precision["low"], 3) == 0.699
    assert round(precision["high"], 3) == 0.972
    assert version["biasedPrecision"] == {
        "value": None,
        "support": 2,
        "confirmed": 1,
        "reason": "2 of the 20 judged hits needed for a figure",
    }
    analyst = await issue_staff_token(db_url, "analyst", "EU")
    assert (await gql(STATS, {"id": rule_id}, token=analyst))["data"]["ruleStats"] is None
    audited = await fetch(db_url, "SELECT count(*) AS n FROM audit_events WHERE action = 'reviewRuleHit'")
    assert audited[0]["n"] == 20

    found = await scrape(http)
    labels = (("kind", "sampled"), ("region", "US"), ("rule", rule_id_of(rule_id)), ("version", "2"))
    assert found[("vigil_rule_precision", labels)] == 0.9
    assert found[("vigil_rule_precision_support", labels)] == 20
    biased = tuple(sorted({**dict(labels), "kind": "biased"}.items()))
    assert ("vigil_rule_precision", biased) not in found  # below the minimum support: no figure
    assert found[("vigil_rule_precision_support", biased)] == 2


def rule_id_of(global_id: str) -> str:
    parsed = parse_any(global_id)
    assert parsed is not None
    return parsed[1]


async def test_hostile_input_is_a_typed_error_or_null_never_a_crash(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    rule_id = await shadow_rule(gql, admin)
    assert (await gql(STATS, {"id": "not-an-id"}, token=admin))["data"]["ruleStats"] is None
    naive = await gql(
        'query($id: ID!) { ruleStats(ruleId: $id, period: {start: "2026-01-01T00:00:00"}) { start } }',
        {"id": rule_id},
        token=admin,
    )
    assert naive["data"]["ruleStats"] is None
    assert naive["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    for args in ('after: "garbage"', "first: 0", 'ruleId: "garbage"'):
        body = await gql(f"{{ ruleAuditQueue({args}) {{ nodes {{ id }} }} }}", token=admin)
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
    for hit in ("garbage", to_global_id("Rule", uuid.uuid4()), to_global_id("RuleHit", uuid.uuid4())):
        refused = await review(gql, admin, hit, True)
        assert refused["code"] in ("INVALID_INPUT", "NOT_FOUND"), refused
    long = await review(gql, admin, to_global_id("RuleHit", uuid.uuid4()), True, notes="x" * 3000)
    assert long == {"__typename": "InvalidInputError", "code": "INVALID_INPUT", "field": "notes"}
    assert (await fetch(db_url, "SELECT count(*) AS n FROM rule_hit_reviews"))[0]["n"] == 0
