"""Reports filed through the API are events for the rules: `submitReport` and `submitReports` feed the report
counters (`distinct(reporters, content, 24h)`) and a rule on `content.reported` hits once enough reporters did."""

from __future__ import annotations

from persistence.fast.sql import recording_queries
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import fetch
from tests.integration.lifecycle import flows
from tests.integration.rules.test_rules_on_events import _rule
from tests.integration.tokens import issue_partner_token, issue_staff_token

SOURCE = """rule "many-reporters"
on content.reported
in US
policy SPAM
when distinct(reporters, content, 24h) >= 3
then hold()
"""
SUBMIT_MANY = """mutation($input: SubmitReportsInput!) { submitReports(input: $input) { __typename } }"""


async def test_reports_from_three_reporters_hit_a_rule_on_reported_content(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    policy = await flows.policy(gql, admin, "SPAM")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    owner = await flows.account(gql, platform, "creator-9")
    video = await flows.content(gql, platform, owner, "video-9")
    await _rule(gql, admin, SOURCE, "SHADOW")
    flaggers = [await issue_partner_token(db_url, f"flagger-{i}", ["trusted_flagger"], "US") for i in range(3)]

    await flows.report(gql, flaggers[0], video, policy)
    await flows.report(gql, flaggers[1], video, policy)
    assert await fetch(db_url, "SELECT * FROM rule_hits") == []
    body = await gql(
        SUBMIT_MANY,
        {"input": {"reports": [{"subjectId": video, "policyId": policy, "source": "USER", "text": "again"}]}},
        token=flaggers[2],
    )
    assert body["data"]["submitReports"]["__typename"] == "SubmitReportsSuccess", body
    hits = await fetch(db_url, "SELECT mode, subject_kind, subject_id FROM rule_hits")
    assert [(h["mode"], h["subject_kind"], h["subject_id"]) for h in hits] == [("SHADOW", "content", "video-9")]


async def test_the_rule_cache_is_not_a_reports_own_round_trip(gql: GraphQLClient, db_url: str) -> None:
    """A report's statements are its own: the rule sets' first load and their polls are left out of the count, so
    the intake round-trip pins hold whichever request happens to load them."""
    admin = await issue_staff_token(db_url, "admin", "*")
    policy = await flows.policy(gql, admin, "SPAM")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    owner = await flows.account(gql, platform, "creator-8")
    video = await flows.content(gql, platform, owner, "video-8")
    with recording_queries() as statements:
        await flows.report(gql, platform, video, policy)
    assert not any("rule" in s.lower() for s in statements), statements
