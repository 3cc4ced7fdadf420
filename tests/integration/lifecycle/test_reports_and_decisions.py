"""Report → case → decision → enforcement through the GraphQL API, as real principals (rules 1, 2, 6, 8)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from api.graphql.ids import to_global_id
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "mod_us": await issue_staff_token(db_url, "moderator", "US"),
        "mod_us_2": await issue_staff_token(db_url, "moderator", "US", name="moderator-US-2"),
        "mod_eu": await issue_staff_token(db_url, "moderator", "EU"),
    }


async def test_mass_report_wave_folds_into_one_case_and_decision_enforces(
    gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    creator = await flows.account(gql, tokens["platform"], "creator-1")
    video = await flows.content(gql, tokens["platform"], creator, "video-1", reach=2_000_000)
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")

    first = await flows.report(gql, tokens["platform"], video, hate, key="r-1")
    retried = await flows.report(gql, tokens["platform"], video, hate, key="r-1")
    assert retried["report"]["id"] == first["report"]["id"]
    for i in range(2, 6):
        await flows.report(gql, tokens["platform"], video, hate, key=f"r-{i}")
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Case { state reportCount reports { id } } } }",
        {"id": first["case"]["id"]},
        token=tokens["mod_us"],
    )
    case = body["data"]["node"]
    assert case["reportCount"] == 5
    assert len(case["reports"]) == 5
    assert case["state"] == "OPEN"

    decided = await flows.decide(gql, tokens["mod_us"], first["case"]["id"], hate, actions=[{"kind": "REMOVE_CONTENT"}])
    assert decided["__typename"] == "DecideCaseSuccess", decided
    assert decided["decision"]["policyVersion"]["number"] == 1
    assert decided["case"]["state"] == "DECIDED"
    assert [s["status"] for s in decided["strikes"]] == ["ACTIVE"]
    kinds = {a["kind"] for a in decided["actions"]}
    assert {"REMOVE_CONTENT", "WARN"} <= kinds
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Content { visibility } } }", {"id": video}, token=tokens["mod_us"]
    )
    assert body["data"]["node"]["visibility"] == "REMOVED"

    again = await flows.report(gql, tokens["platform"], video, hate, key="after-decision")
    assert again["case"]["id"] != first["case"]["id"]


async def test_two_moderators_deciding_at_once_one_wins(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    creator = await flows.account(gql, tokens["platform"], "creator-2")
    video = await flows.content(gql, tokens["platform"], creator, "video-2")
    spam = await flows.policy(gql, tokens["admin"], "SPAM", severity="LOW")
    case_id = (await flows.report(gql, tokens["platform"], video, spam))["case"]["id"]

    results = await asyncio.gather(
        flows.decide(gql, tokens["mod_us"], case_id, spam, actions=[{"kind": "LABEL"}]),
        flows.decide(gql, tokens["mod_us_2"], case_id, spam, actions=[{"kind": "LABEL"}]),
    )
    assert sorted(r["__typename"] for r in results) == ["ConflictError", "DecideCaseSuccess"], results
    body = await gql(
        "query($id: ID!) { cases(filter: {subjectId: $id}) { nodes { decision { id } strikes { id } } } }",
        {"id": video},
        token=tokens["mod_us"],
    )
    nodes = body["data"]["cases"]["nodes"]
    assert len(nodes) == 1
    assert len(nodes[0]["strikes"]) == 1


async def test_not_violating_closes_with_no_action(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    creator = await flows.account(gql, tokens["platform"], "creator-3")
    video = await flows.content(gql, tokens["platform"], creator, "video-3")
    spam = await flows.policy(gql, tokens["admin"], "SPAM", severity="LOW")
    case_id = (await flows.report(gql, tokens["platform"], video, spam))["case"]["id"]
    decided = await flows.decide(gql, tokens["mod_us"], case_id, spam, verdict="NOT_VIOLATING")
    assert decided["__typename"] == "DecideCaseSuccess"
    assert decided["actions"] == []
    assert decided["strikes"] == []


async def test_bad_input_is_typed_and_changes_nothing(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    creator = await flows.account(gql, tokens["platform"], "creator-4")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    body = await gql(
        flows.SUBMIT_REPORT,
        {"input": {"subjectId": hate, "policyId": hate, "source": "USER"}},
        token=tokens["platform"],
    )
    assert body["data"]["submitReport"]["code"] == "INVALID_INPUT"
    assert body["data"]["submitReport"]["field"] == "subjectId"
    body = await gql(
        flows.SUBMIT_REPORT,
        {"input": {"subjectId": "bm90LWFuLWlk", "policyId": hate, "source": "USER"}},
        token=tokens["platform"],
    )
    assert body["data"]["submitReport"]["code"] == "INVALID_INPUT"
    unknown_account = to_global_id("Account", uuid.uuid4())
    body = await gql(
        flows.SUBMIT_REPORT,
        {"input": {"subjectId": unknown_account, "policyId": hate, "source": "USER"}},
        token=tokens["platform"],
    )
    assert (body["data"]["submitReport"]["code"], body["data"]["submitReport"]["field"]) == ("NOT_FOUND", "subjectId")
    body = await gql(
        flows.DECIDE_CASE,
        {
            "input": {
                "caseId": "Q2FzZTowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=",
                "verdict": "VIOLATING",
                "policyId": hate,
                "rationale": "x",
            }
        },
        token=tokens["mod_us"],
    )
    assert body["data"]["decideCase"]["code"] == "NOT_FOUND"
    body = await gql(
        flows.UPSERT_ACCOUNT,
        {"input": {"region": "US", "externalId": "", "kind": "USER", "handle": "h", "displayName": "d"}},
        token=tokens["platform"],
    )
    assert body["data"]["upsertAccount"]["code"] == "INVALID_INPUT"
    body = await gql(
        flows.UPSERT_CONTENT,
        {"input": {"ownerAccountId": creator, "externalId": "long", "kind": "POST", "text": "x" * 10_001}},
        token=tokens["platform"],
    )
    assert (body["data"]["upsertContent"]["code"], body["data"]["upsertContent"]["field"]) == ("INVALID_INPUT", "text")
    body = await gql(
        "{ contentItems { nodes { id } } reports { nodes { id } } cases { nodes { id } } }", token=tokens["admin"]
    )
    assert body["data"] == {"contentItems": {"nodes": []}, "reports": {"nodes": []}, "cases": {"nodes": []}}


async def test_regional_walls(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    creator = await flows.account(gql, tokens["platform"], "creator-5", email="c5@example.com")
    video = await flows.content(gql, tokens["platform"], creator, "video-5")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    case_id = (await flows.report(gql, tokens["platform"], video, hate))["case"]["id"]
    query = "query($id: ID!) { node(id: $id) { id ... on Case { account { email } } } }"
    assert (await gql(query, {"id": case_id}, token=tokens["mod_eu"]))["data"]["node"] is None
    seen = await gql(query, {"id": case_id}, token=tokens["mod_us"])
    assert seen["data"]["node"]["account"]["email"] == "c5@example.com"
    vendor = await issue_staff_token_for(gql, "vendor_moderator")
    assert (await gql(query, {"id": case_id}, token=vendor))["data"]["node"]["account"]["email"] is None
    eu_list = await gql("{ cases { nodes { id } } }", token=tokens["mod_eu"])
    assert eu_list["data"]["cases"]["nodes"] == []
    refused = await flows.decide(gql, tokens["mod_eu"], case_id, hate)
    assert refused["code"] == "NOT_FOUND"
    banned = await flows.decide(gql, vendor, case_id, hate, actions=[{"kind": "BAN_ACCOUNT"}])
    assert banned["code"] == "FORBIDDEN"


async def issue_staff_token_for(gql: GraphQLClient, role: str) -> str:
    db_url = gql.http._transport.app.state.runtime.database.url  # type: ignore[attr-defined]
    return await issue_staff_token(db_url, role, "US")


async def test_statement_of_reasons_is_ready_to_send(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    creator = await flows.account(gql, tokens["platform"], "creator-6")
    video = await flows.content(gql, tokens["platform"], creator, "video-6")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    case_id = (await flows.report(gql, tokens["platform"], video, hate, source="TRUSTED_FLAGGER"))["case"]["id"]
    decided = await flows.decide(gql, tokens["mod_us"], case_id, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Decision { statementOfReasons } } }",
        {"id": decided["decision"]["id"]},
        token=tokens["mod_us"],
    )
    statement = body["data"]["node"]["statementOfReasons"]
    assert statement["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert statement["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    assert statement["category"] == "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    assert statement["content_type"] == ["CONTENT_TYPE_VIDEO"]


async def test_nested_reports_are_capped_per_case(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    creator = await flows.account(gql, tokens["platform"], "creator-7")
    for n in range(2):
        video = await flows.content(gql, tokens["platform"], creator, f"video-7-{n}")
        for i in range(4):
            await flows.report(gql, tokens["platform"], video, hate, key=f"cap-{n}-{i}")
    body = await gql("{ cases { nodes { reportCount reports(first: 2) { id } } } }", token=tokens["mod_us"])
    assert [(c["reportCount"], len(c["reports"])) for c in body["data"]["cases"]["nodes"]] == [(4, 2), (4, 2)]
    too_many = await gql("{ cases { nodes { reports(first: 101) { id } } } }", token=tokens["mod_us"])
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_listings_filtered_by_source_decider_and_policy(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    """The filters whose statements changed for their plans (a source written into the text, indexes by decider and
    by policy) answer exactly the matching records, on the pool's statements."""
    creator = await flows.account(gql, tokens["platform"], "creator-filters")
    posts = [await flows.content(gql, tokens["platform"], creator, f"filters-{i}") for i in range(3)]
    spam = await flows.policy(gql, tokens["admin"], "SPAM_FILTERS", severity="LOW")
    legal = await flows.report(gql, tokens["platform"], posts[0], spam, key="legal-1", source="LEGAL")
    await flows.report(gql, tokens["platform"], posts[1], spam, key="user-1")
    flagged = await flows.report(gql, tokens["platform"], posts[2], spam, key="flagger-1", source="TRUSTED_FLAGGER")
    decided = await flows.decide(gql, tokens["mod_us"], legal["case"]["id"], spam, actions=[{"kind": "LABEL"}])
    assert decided["__typename"] == "DecideCaseSuccess", decided

    async def ids(query: str, variables: dict[str, object]) -> list[str]:
        body = await gql(query, variables, token=tokens["admin"])
        assert "errors" not in body, body
        return [n["id"] for n in next(iter(body["data"].values()))["nodes"]]

    by_source = "query($s: ReportSource!) { reports(first: 50, filter: {source: $s}) { nodes { id } } }"
    assert await ids(by_source, {"s": "LEGAL"}) == [legal["report"]["id"]]
    assert await ids(by_source, {"s": "TRUSTED_FLAGGER"}) == [flagged["report"]["id"]]
    assert legal["report"]["id"] not in await ids(by_source, {"s": "USER"})
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Decision { deciderId } } }",
        {"id": decided["decision"]["id"]},
        token=tokens["admin"],
    )
    decider = body["data"]["node"]["deciderId"]
    by_decider = "query($d: String!) { decisions(first: 50, filter: {deciderId: $d}) { nodes { id } } }"
    assert decided["decision"]["id"] in await ids(by_decider, {"d": decider})
    assert await ids(by_decider, {"d": "staff:nobody"}) == []
    by_policy = "query($p: ID!) { strikes(first: 50, filter: {policyId: $p}) { nodes { id } } }"
    assert await ids(by_policy, {"p": spam}) == [s["id"] for s in decided["strikes"]]
