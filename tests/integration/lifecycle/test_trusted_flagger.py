"""Journey 2: a trusted flagger's EU token files a batch of 100, retries it, and sees only its own reports."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

VIDEOS = 10
OWN_REPORTS = """{ reports(first: 100) { nodes { id reporterId source status case { id } subject { __typename } } } }"""


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "flagger": await issue_partner_token(db_url, "flagger-eu", ["trusted_flagger"], "EU"),
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
    }


def _batch(videos: list[str], policy_id: str, size: int) -> list[dict[str, Any]]:
    return [
        {
            "subjectId": videos[i % len(videos)],
            "policyId": policy_id,
            "source": "TRUSTED_FLAGGER",
            "text": f"flagged {i}",
            "idempotencyKey": f"batch-1-{i}",
        }
        for i in range(size)
    ]


async def _world(gql: GraphQLClient, tokens: dict[str, str]) -> dict[str, Any]:
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    creator = await flows.account(gql, tokens["platform"], "eu-creator", region="EU", email="eu@example.com")
    videos = [await flows.content(gql, tokens["platform"], creator, f"eu-video-{i}") for i in range(VIDEOS)]
    us_creator = await flows.account(gql, tokens["platform"], "us-creator", region="US")
    us_video = await flows.content(gql, tokens["platform"], us_creator, "us-video")
    return {"hate": hate, "creator": creator, "videos": videos, "us_video": us_video}


async def _submit(gql: GraphQLClient, token: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    body = await gql(flows.SUBMIT_REPORTS, {"input": {"reports": items}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["submitReports"]
    return result


async def _report_count(gql: GraphQLClient, admin: str) -> int:
    body = await gql("{ reports(first: 100) { nodes { id } pageInfo { hasNextPage } } }", token=admin)
    assert body["data"]["reports"]["pageInfo"]["hasNextPage"] is False
    return len(body["data"]["reports"]["nodes"])


async def test_a_batch_of_100_retried_creates_no_duplicates(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    world = await _world(gql, tokens)
    batch = _batch(world["videos"], world["hate"], 100)

    first = await _submit(gql, tokens["flagger"], batch)
    assert first["__typename"] == "SubmitReportsSuccess", first
    assert {r["__typename"] for r in first["results"]} == {"SubmitReportSuccess"}
    assert await _report_count(gql, tokens["admin"]) == 100
    assert {r["case"] for r in first["results"]} == {None}  # the flagger has no cases:read, payload or not
    cases = await gql("{ cases(first: 100) { nodes { reportCount } } }", token=tokens["admin"])
    assert sorted(c["reportCount"] for c in cases["data"]["cases"]["nodes"]) == [100 // VIDEOS] * VIDEOS  # per video

    retried = await _submit(gql, tokens["flagger"], batch)
    assert [r["report"]["id"] for r in retried["results"]] == [r["report"]["id"] for r in first["results"]]
    assert await _report_count(gql, tokens["admin"]) == 100


async def test_the_flagger_sees_its_own_reports_and_nothing_else(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    world = await _world(gql, tokens)
    own = await _submit(gql, tokens["flagger"], _batch(world["videos"], world["hate"], 5))
    own_ids = {r["report"]["id"] for r in own["results"]}
    other_eu = await flows.report(gql, tokens["platform"], world["videos"][0], world["hate"], key="user-1")
    other_us = await flows.report(gql, tokens["platform"], world["us_video"], world["hate"], key="user-2")

    body = await gql(OWN_REPORTS, token=tokens["flagger"])
    nodes = body["data"]["reports"]["nodes"]
    assert {n["id"] for n in nodes} == own_ids
    assert {n["reporterId"] for n in nodes} == {"partner:flagger-eu"}
    assert {n["status"] for n in nodes} == {"OPEN"}  # the status it polls
    assert {n["case"] for n in nodes} == {None}  # the case itself needs cases:read
    assert {n["subject"] for n in nodes} == {None}  # and the content needs content:read

    assert await flows.node(gql, tokens["flagger"], other_eu["report"]["id"], "") is None
    assert await flows.node(gql, tokens["flagger"], other_us["report"]["id"], "") is None
    assert await flows.node(gql, tokens["flagger"], other_us["case"]["id"], "") is None
    assert await flows.node(gql, tokens["flagger"], world["us_video"], "") is None
    assert await flows.node(gql, tokens["flagger"], sorted(own_ids)[0], "") is not None

    us_item = {"subjectId": world["us_video"], "policyId": world["hate"], "source": "TRUSTED_FLAGGER"}
    outside = await _submit(gql, tokens["flagger"], [us_item])
    assert outside["results"][0]["code"] == "NOT_FOUND"


async def test_nested_fields_do_not_leak_other_reports_or_personal_data(
    gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    world = await _world(gql, tokens)
    await _submit(gql, tokens["flagger"], _batch(world["videos"][:1], world["hate"], 1))
    other = await flows.report(gql, tokens["platform"], world["videos"][0], world["hate"], key="user-1")

    body = await gql(
        """{ reports { nodes { id
        case { reports { id reporterId text } account { email phone lastIp } }
        subject { ... on Content { owner { email } } } } } }""",
        token=tokens["flagger"],
    )
    seen = json.dumps(body)
    assert other["report"]["id"] not in seen
    assert "partner:platform" not in seen
    assert "eu@example.com" not in seen


async def test_the_flagger_cannot_read_accounts(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    await _world(gql, tokens)
    body = await gql("{ accounts { nodes { id email } } }", token=tokens["flagger"])
    assert body["data"] == {"accounts": None}
    assert flows.error_code(body) == "FORBIDDEN"


async def test_a_batch_of_101_is_a_typed_invalid_input(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    world = await _world(gql, tokens)
    result = await _submit(gql, tokens["flagger"], _batch(world["videos"], world["hate"], 101))
    assert result["__typename"] == "InvalidInputError", result
    assert result["code"] == "INVALID_INPUT"
    assert result["field"] == "reports"
    assert await _report_count(gql, tokens["admin"]) == 0
