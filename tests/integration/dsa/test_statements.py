"""Statements of reasons on PostgreSQL: the demo data's EU decisions each carry a snapshot that passes the
Transparency Database's rules; the typed GraphQL statement, its read rules, its submission state in the metrics;
policies keep to the official vocabulary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from api.services.seed import seed_demo
from domain.dsa.statement import RESTRICTING
from domain.dsa.statement_rules import statement_errors
from domain.region import Region
from persistence.db import create_engine, create_session_factory
from persistence.fast.sql import recording_queries
from persistence.tables.outcomes import decisions, enforcement_actions, statements_of_reasons
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.lifecycle.flows import DEFINE_POLICY
from tests.integration.lifecycle.test_n_plus_one import _counting, _runtime, _seed, _tables
from tests.integration.tokens import issue_partner_token, issue_staff_token

STATEMENT = """query($id: ID!) { node(id: $id) { ... on Decision {
  statementOfReasons
  dsaStatement {
    puid category categorySpecification decisionVisibility decisionAccount decisionGround contentType
    contentDate applicationDate sourceType automatedDetection automatedDecision territorialScope fields
    submission { state databaseId rejection submittedAt }
  } } } }"""
METRICS = """query($region: Region!, $from: DateTime!, $to: DateTime!) {
  moderationMetrics(region: $region, from: $from, to: $to) { dsaStatements { state count } } }"""


async def _rows(db_url: str, stmt: sa.Select[Any]) -> list[sa.RowMapping]:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            return list((await session.execute(stmt)).mappings().all())
    finally:
        await engine.dispose()


async def test_every_demo_decision_in_the_eu_has_a_valid_statement(db_url: str) -> None:
    await seed_demo(db_url)
    restricting = [k.value for k in RESTRICTING]
    d, a = decisions.c, enforcement_actions.c
    expected = await _rows(
        db_url,
        sa.select(d.id)
        .where(d.region == "EU", d.verdict == "VIOLATING")
        .where(sa.exists().where(a.decision_id == d.id, a.kind.in_(restricting))),
    )
    statements = await _rows(db_url, sa.select(statements_of_reasons))
    assert {r["decision_id"] for r in statements} == {r["id"] for r in expected}
    assert len(expected) >= 6  # removals, the ladder's ban, the overturned one, the rejected ad
    assert len({r["puid"] for r in statements}) == len(statements)
    for row in statements:
        assert row["region"] == "EU"
        assert row["submission"] == "PENDING"
        assert statement_errors(row["fields"]) == {}, row["fields"]
        assert row["fields"]["puid"] == row["puid"]
        assert row["fields"]["decision_ground_reference_url"].startswith(
            "https://platform.example/community-guidelines#"
        )
    kinds = {tuple(r["fields"]["content_type"]) for r in statements}
    assert kinds == {("CONTENT_TYPE_VIDEO",), ("CONTENT_TYPE_OTHER",)}  # videos and the rejected ad
    automated = [r["fields"] for r in statements if r["fields"]["automated_decision"] == "AUTOMATED_DECISION_FULLY"]
    assert [(f["automated_detection"], f["source_type"]) for f in automated] == [("Yes", "SOURCE_VOLUNTARY")]
    overturned = await _rows(db_url, sa.select(d.id).where(d.region == "EU", d.overturned_at.is_not(None)))
    snapshot = next(r["fields"] for r in statements if r["decision_id"] == overturned[0]["id"])
    assert snapshot["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]  # as stated then


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "mod_eu": await issue_staff_token(db_url, "moderator", "EU"),
        "mod_us": await issue_staff_token(db_url, "moderator", "US"),
        "analyst_eu": await issue_staff_token(db_url, "analyst", "EU"),
    }


async def test_an_eu_removal_has_a_typed_statement_under_the_decisions_read_rules(
    gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    creator = await flows.account(gql, tokens["platform"], "eu-creator", region="EU")
    video = await flows.content(gql, tokens["platform"], creator, "eu-video")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    ids = []
    for n in range(2):  # two decisions on one video: two statements, two puids
        case_id = (await flows.report(gql, tokens["platform"], video, hate, source="TRUSTED_FLAGGER"))["case"]["id"]
        decided = await flows.decide(gql, tokens["mod_eu"], case_id, hate, actions=[{"kind": "REMOVE_CONTENT"}])
        assert decided["__typename"] == "DecideCaseSuccess", (n, decided)
        ids.append(decided["decision"]["id"])

    body = await gql(STATEMENT, {"id": ids[0]}, token=tokens["mod_eu"])
    assert "errors" not in body, body
    node = body["data"]["node"]
    typed = node["dsaStatement"]
    assert typed["category"] == "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    assert typed["decisionVisibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert typed["decisionAccount"] is None
    assert (typed["sourceType"], typed["automatedDetection"]) == ("SOURCE_TRUSTED_FLAGGER", "NO")
    assert typed["automatedDecision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert typed["contentType"] == ["CONTENT_TYPE_VIDEO"]
    assert len(typed["territorialScope"]) == 30
    assert "NO" in typed["territorialScope"]
    assert typed["submission"] == {"state": "PENDING", "databaseId": None, "rejection": [], "submittedAt": None}
    assert node["statementOfReasons"] == typed["fields"]  # the old field reads the same snapshot
    assert statement_errors(typed["fields"]) == {}
    second = await gql(STATEMENT, {"id": ids[1]}, token=tokens["mod_eu"])
    assert second["data"]["node"]["dsaStatement"]["puid"] != typed["puid"]

    hidden = await gql(STATEMENT, {"id": ids[0]}, token=tokens["mod_us"])
    assert hidden["data"]["node"] is None  # an EU decision (and its statement) does not exist for the US

    window = {"region": "EU", "from": start.isoformat(), "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}
    metrics = await gql(METRICS, window, token=tokens["analyst_eu"])
    assert "errors" not in metrics, metrics
    assert metrics["data"]["moderationMetrics"]["dsaStatements"] == [
        {"state": "PENDING", "count": 2},
        {"state": "IN_FLIGHT", "count": 0},
        {"state": "SUBMITTED", "count": 0},
        {"state": "REJECTED", "count": 0},
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dsaCategory": "STATEMENT_CATEGORY_UNSAFE_PRODUCTS"}, "dsaCategory"),
        ({"dsaCategory": "hate"}, "dsaCategory"),
        ({"dsaKeywords": ["KEYWORD_HATE_SPEECH", "KEYWORD_SPAM"]}, "dsaKeywords"),
    ],
)
async def test_policies_keep_to_the_official_vocabulary(
    gql: GraphQLClient, tokens: dict[str, str], change: dict[str, Any], field: str
) -> None:
    policy = {
        "code": "PROHIBITED_PRODUCTS",
        "name": "Prohibited products",
        "surface": "ADS",
        "severity": "SEVERE",
        "dsaCategory": "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
        "dsaKeywords": ["KEYWORD_PROHIBITED_PRODUCTS"],
        "description": "No prohibited products.",
    }
    refused = await gql(DEFINE_POLICY, {"input": {**policy, **change}}, token=tokens["admin"])
    result = refused["data"]["definePolicy"]
    assert (result["__typename"], result["code"], result["field"]) == ("InvalidInputError", "INVALID_INPUT", field)
    accepted = await gql(DEFINE_POLICY, {"input": policy}, token=tokens["admin"])
    assert accepted["data"]["definePolicy"]["__typename"] == "DefinePolicySuccess", accepted


USER_NOTICE = """query($id: ID!, $language: String) { node(id: $id) { ... on Decision {
  userNotice(language: $language) { language subject body } } } }"""
OWN_REPORTS = """query($language: String) { reports(first: 10) { nodes {
  status outcomeNotice(language: $language) { language subject body } } } }"""


async def test_the_user_and_the_reporter_get_their_notices(
    db_url: str, gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    flagger = await issue_partner_token(db_url, "flagger-eu", ["trusted_flagger"], "EU")
    creator = await flows.account(gql, tokens["platform"], "eu-notice-creator", region="EU")
    video = await flows.content(gql, tokens["platform"], creator, "eu-notice-video")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    report_id = (await flows.report(gql, flagger, video, hate, source="TRUSTED_FLAGGER"))["report"]["id"]
    found = await gql("query($id: ID!) { node(id: $id) { ... on Report { case { id } } } }", {"id": report_id},
                      token=tokens["mod_eu"])  # fmt: skip
    case_id = found["data"]["node"]["case"]["id"]
    pending = await gql(OWN_REPORTS, {"language": "de"}, token=flagger)
    assert pending["data"]["reports"]["nodes"] == [{"status": "OPEN", "outcomeNotice": None}]

    decided = await flows.decide(gql, tokens["mod_eu"], case_id, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    decision_id = decided["decision"]["id"]
    english = await gql(USER_NOTICE, {"id": decision_id}, token=tokens["mod_eu"])
    notice = english["data"]["node"]["userNotice"]
    assert (notice["language"], notice["subject"]) == ("en", "Why we restricted your content")
    assert "removal of the content (without end date)" in notice["body"]
    assert "as reviewed" in notice["body"]  # the decision's rationale
    german = await gql(USER_NOTICE, {"id": decision_id, "language": "de"}, token=tokens["mod_eu"])
    assert german["data"]["node"]["userNotice"]["subject"] == "Warum wir Ihr Inhalt eingeschränkt haben"
    french = await gql(USER_NOTICE, {"id": decision_id, "language": "fr"}, token=tokens["mod_eu"])
    assert french["data"]["node"]["userNotice"]["language"] == "en"

    outcome = await gql(OWN_REPORTS, {"language": "de"}, token=flagger)
    assert "errors" not in outcome, outcome
    [report] = outcome["data"]["reports"]["nodes"]
    assert report["outcomeNotice"]["language"] == "de"
    assert report["outcomeNotice"]["subject"] == "Was aus Ihrer Meldung geworden ist"
    assert "Entfernung des Inhalts" in report["outcomeNotice"]["body"]
    assert "as reviewed" not in report["outcomeNotice"]["body"]  # the reporter is not told the internal rationale


DECISIONS_PAGE = """query($first: Int!) { decisions(first: $first, filter: {region: EU}) { nodes {
  id statementOfReasons dsaStatement { puid submission { state } } userNotice(language: "de") { subject }
  case { reports { outcomeNotice { subject } } } } } }"""


async def test_a_page_of_decisions_with_statements_and_notices_costs_the_same_for_5_and_20(
    gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    runtime = _runtime(gql)
    await _seed(runtime.sessions, Region.EU)  # 60 EU cases, every third decided VIOLATING with a removal
    engine = runtime.sessions.kw["bind"]
    await gql(DECISIONS_PAGE, {"first": 2}, token=tokens["admin"])  # new pool connections introspect types once
    tables: dict[int, list[str]] = {}
    for first in (5, 20):
        with _counting(engine) as statements, recording_queries() as round_trips:
            body = await gql(DECISIONS_PAGE, {"first": first}, token=tokens["admin"])
        assert "errors" not in body, body
        nodes = body["data"]["decisions"]["nodes"]
        assert len(nodes) == first
        assert all(n["dsaStatement"]["submission"]["state"] == "PENDING" for n in nodes)
        assert all(n["userNotice"]["subject"].startswith("Warum") for n in nodes)
        assert all(r["outcomeNotice"]["subject"] for n in nodes for r in n["case"]["reports"])
        tables[first] = _tables(statements + round_trips)
    assert tables[5] == tables[20]
    assert tables[20] == sorted(
        [
            *("api_tokens", "role_assignments"),  # authentication
            "decisions",  # the page
            "statements_of_reasons",  # dsaStatement and statementOfReasons, grouped by decision
            *("enforcement_actions", "cases", "accounts", "policies", "policy_versions"),  # userNotice, batched
            *("reports", "decisions"),  # case.reports, then each report's case's decisions for outcomeNotice
        ]
    )


KEYWORDS = "query($id: ID!) { node(id: $id) { ... on Decision { dsaStatement { categorySpecification } } } }"
BULK = """mutation($input: BulkDecideCasesInput!) { bulkDecideCases(input: $input) {
  __typename ... on Error { code field } } }"""


async def test_each_decision_states_its_own_keyword_among_the_policys(
    gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    minors = {
        "code": "MINOR_SAFETY",
        "name": "Minor safety",
        "surface": "CONTENT",
        "severity": "SEVERE",
        "dsaCategory": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "dsaKeywords": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"],
        "description": "Keep minors safe.",
    }
    defined = await gql(DEFINE_POLICY, {"input": minors}, token=tokens["admin"])
    policy = defined["data"]["definePolicy"]["policy"]["id"]
    creator = await flows.account(gql, tokens["platform"], "eu-keyword-creator", region="EU")

    async def decide(name: str, kind: str, keywords: list[str] | None) -> dict[str, Any]:
        video = await flows.content(gql, tokens["platform"], creator, name)
        case_id = (await flows.report(gql, tokens["platform"], video, policy))["case"]["id"]
        extra = {} if keywords is None else {"dsaKeywords": keywords}
        given = {"caseId": case_id, "verdict": "VIOLATING", "policyId": policy, "rationale": "as reviewed"}
        body = await gql(flows.DECIDE_CASE, {"input": {**given, "actions": [{"kind": kind}], **extra}},
                         token=tokens["mod_eu"])  # fmt: skip
        result: dict[str, Any] = body["data"]["decideCase"]
        return result

    async def stated(decided: dict[str, Any]) -> list[str]:
        assert decided["__typename"] == "DecideCaseSuccess", decided
        body = await gql(KEYWORDS, {"id": decided["decision"]["id"]}, token=tokens["mod_eu"])
        keywords: list[str] = body["data"]["node"]["dsaStatement"]["categorySpecification"]
        return keywords

    age = await decide("kw-age", "AGE_RESTRICT", ["KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"])
    assert await stated(age) == ["KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"]  # not labelled CSAM
    csam = await decide("kw-csam", "REMOVE_CONTENT", ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"])
    assert await stated(csam) == ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]
    assert await stated(await decide("kw-none", "AGE_RESTRICT", None)) == []  # none chosen: none stated

    refused = await decide("kw-spam", "REMOVE_CONTENT", ["KEYWORD_SPAM"])  # not one of the policy's keywords
    assert (refused["__typename"], refused["code"], refused["field"]) == ("InvalidInputError", "INVALID_INPUT",
                                                                           "dsaKeywords")  # fmt: skip
    bulk = await gql(BULK, {"input": {"caseIds": [age["case"]["id"]], "verdict": "VIOLATING", "policyId": policy,
                     "rationale": "r", "dsaKeywords": ["KEYWORD_HATE_SPEECH"]}}, token=tokens["mod_eu"])  # fmt: skip
    assert bulk["data"]["bulkDecideCases"] == {"__typename": "InvalidInputError", "code": "INVALID_INPUT",
                                               "field": "dsaKeywords"}  # fmt: skip
