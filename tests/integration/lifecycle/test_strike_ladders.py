"""Rule 3: a SEVERE policy bans at once; ad strikes climb the ads ladder (warn, 3-day hold, 7-day hold, suspend)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

STATUS = "... on Account { status statusUntil }"


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "moderator": await issue_staff_token(db_url, "moderator", "US"),
    }


async def test_a_severe_content_policy_bans_at_the_first_strike(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    creator = await flows.account(gql, tokens["platform"], "severe-creator")
    video = await flows.content(gql, tokens["platform"], creator, "severe-video")
    minors = await flows.policy(gql, tokens["admin"], "MINOR_SAFETY", severity="SEVERE")
    case_id = (await flows.report(gql, tokens["platform"], video, minors))["case"]["id"]

    decided = await flows.decide(gql, tokens["moderator"], case_id, minors, actions=[{"kind": "REMOVE_CONTENT"}])
    assert decided["__typename"] == "DecideCaseSuccess", decided
    assert [a["kind"] for a in decided["actions"] if a["source"] == "LADDER"] == ["BAN_ACCOUNT"]
    assert len(decided["strikes"]) == 1
    assert await flows.node(gql, tokens["moderator"], creator, STATUS) == {
        "id": creator,
        "status": "BANNED",
        "statusUntil": None,
    }


async def test_a_severe_ads_policy_bans_the_advertiser_at_once(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    advertiser = await flows.account(gql, tokens["platform"], "severe-advertiser", kind="ADVERTISER")
    prohibited = await flows.policy(gql, tokens["admin"], "PROHIBITED_PRODUCTS", surface="ADS", severity="SEVERE")
    ad = await flows.ad(gql, tokens["platform"], advertiser, "ad-weapons")

    rejected = await flows.review_ad(gql, tokens["moderator"], ad["ad"]["id"], policy_id=prohibited)
    assert rejected["__typename"] == "ReviewAdSuccess", rejected
    assert sorted(a["kind"] for a in rejected["actions"]) == ["BAN_ACCOUNT", "REJECT_AD"]
    assert (await flows.node(gql, tokens["moderator"], advertiser, STATUS) or {})["status"] == "BANNED"


async def test_ad_rejections_climb_the_ads_ladder(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    advertiser = await flows.account(gql, tokens["platform"], "repeat-advertiser", kind="ADVERTISER")
    misleading = await flows.policy(gql, tokens["admin"], "MISLEADING_AD_CLAIMS", surface="ADS", severity="MEDIUM")
    steps: list[list[str]] = []
    statuses: list[str] = []
    for n in range(4):
        ad = await flows.ad(gql, tokens["platform"], advertiser, f"ad-{n}")
        rejected = await flows.review_ad(gql, tokens["moderator"], ad["ad"]["id"], policy_id=misleading)
        assert rejected["__typename"] == "ReviewAdSuccess", rejected
        steps.append(sorted(a["kind"] for a in rejected["actions"] if a["kind"] != "REJECT_AD"))
        statuses.append((await flows.node(gql, tokens["moderator"], advertiser, STATUS) or {})["status"])

    assert steps == [["WARN"], ["HOLD_ADS"], ["HOLD_ADS"], ["SUSPEND_ACCOUNT"]]
    assert statuses == ["ACTIVE", "RESTRICTED", "RESTRICTED", "SUSPENDED"]
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Account { strikes { status } } } }",
        {"id": advertiser},
        token=tokens["moderator"],
    )
    assert body["data"]["node"]["strikes"] == [{"status": "ACTIVE"}] * 4
