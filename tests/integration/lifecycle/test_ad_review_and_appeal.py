"""Journey 3: an ad waits for review, is rejected under an ADS policy, appealed, and overturned by a senior."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

ADVERTISER = "... on Account { status strikes { id status } }"
AD = "... on Ad { reviewStatus serving }"


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        # the platform service forwards its users' appeals (platform_service holds appeals:create)
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        # the first reviewer is a senior moderator too, so that deciding their own appeal hits the domain rule
        "reviewer": await issue_staff_token(db_url, "senior_moderator", "US", name="ads-reviewer-US"),
        "senior": await issue_staff_token(db_url, "senior_moderator", "US"),
        "moderator": await issue_staff_token(db_url, "moderator", "US"),
    }


async def _rejected_and_appealed(gql: GraphQLClient, tokens: dict[str, str]) -> dict[str, Any]:
    advertiser = await flows.account(gql, tokens["platform"], "advertiser-1", kind="ADVERTISER")
    submitted = await flows.ad(gql, tokens["platform"], advertiser, "ad-miracle-cure")
    assert submitted["ad"]["reviewStatus"] == "PENDING_REVIEW"
    assert submitted["ad"]["serving"] is False
    assert submitted["case"]["surface"] == "ADS"
    misleading = await flows.policy(gql, tokens["admin"], "MISLEADING_AD_CLAIMS", surface="ADS", severity="MEDIUM")

    rejected = await flows.review_ad(gql, tokens["reviewer"], submitted["ad"]["id"], policy_id=misleading)
    assert rejected["__typename"] == "ReviewAdSuccess", rejected
    assert rejected["ad"] == {"id": submitted["ad"]["id"], "reviewStatus": "REJECTED", "serving": False}
    assert rejected["decision"]["verdict"] == "VIOLATING"
    assert sorted(a["kind"] for a in rejected["actions"]) == ["REJECT_AD", "WARN"]  # ads ladder, 1st step
    assert len(rejected["strikes"]) == 1
    seen = await flows.node(gql, tokens["senior"], advertiser, ADVERTISER)
    assert seen == {
        "id": advertiser,
        "status": "ACTIVE",
        "strikes": [{"id": rejected["strikes"][0]["id"], "status": "ACTIVE"}],
    }

    appeal = await flows.file_appeal(gql, tokens["platform"], rejected["decision"]["id"], advertiser)
    assert appeal["__typename"] == "FileAppealSuccess", appeal
    assert appeal["appeal"]["state"] == "PENDING"
    return {
        "advertiser": advertiser,
        "ad": submitted["ad"]["id"],
        "appeal": appeal["appeal"]["id"],
        "strike": rejected["strikes"][0]["id"],
    }


async def test_a_senior_moderator_overturns_and_the_ad_serves(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    world = await _rejected_and_appealed(gql, tokens)

    decided = await flows.decide_appeal(gql, tokens["senior"], world["appeal"], "OVERTURNED")
    assert decided["__typename"] == "DecideAppealSuccess", decided
    assert decided["appeal"]["state"] == "OVERTURNED"
    assert decided["reversedStrikes"] == [{"id": world["strike"], "status": "REVERSED"}]
    assert sorted(a["kind"] for a in decided["reversedActions"]) == ["REJECT_AD", "WARN"]
    assert await flows.node(gql, tokens["senior"], world["ad"], AD) == {
        "id": world["ad"],
        "reviewStatus": "APPROVED",
        "serving": True,
    }
    assert await flows.node(gql, tokens["senior"], world["advertiser"], ADVERTISER) == {
        "id": world["advertiser"],
        "status": "ACTIVE",
        "strikes": [{"id": world["strike"], "status": "REVERSED"}],
    }


async def test_the_first_reviewer_may_not_decide_the_appeal(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    world = await _rejected_and_appealed(gql, tokens)

    own = await flows.decide_appeal(gql, tokens["reviewer"], world["appeal"], "OVERTURNED")
    assert own["__typename"] == "ForbiddenError", own
    assert own["code"] == "FORBIDDEN"
    body = await gql(
        flows.DECIDE_APPEAL,
        {"input": {"appealId": world["appeal"], "outcome": "OVERTURNED", "rationale": "x"}},
        token=tokens["moderator"],
    )
    assert flows.error_code(body) == "FORBIDDEN"  # a plain moderator lacks appeals:decide
    assert await flows.node(gql, tokens["senior"], world["appeal"], "... on Appeal { state }") == {
        "id": world["appeal"],
        "state": "PENDING",
    }
    assert await flows.node(gql, tokens["senior"], world["ad"], AD) == {
        "id": world["ad"],
        "reviewStatus": "REJECTED",
        "serving": False,
    }


async def test_an_upheld_appeal_changes_nothing(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    world = await _rejected_and_appealed(gql, tokens)

    upheld = await flows.decide_appeal(gql, tokens["senior"], world["appeal"], "UPHELD")
    assert upheld["__typename"] == "DecideAppealSuccess", upheld
    assert upheld["appeal"]["state"] == "UPHELD"
    assert upheld["reversedStrikes"] == upheld["reversedActions"] == upheld["restoredActions"] == []
    assert await flows.node(gql, tokens["senior"], world["ad"], AD) == {
        "id": world["ad"],
        "reviewStatus": "REJECTED",
        "serving": False,
    }
    assert await flows.node(gql, tokens["senior"], world["advertiser"], ADVERTISER) == {
        "id": world["advertiser"],
        "status": "ACTIVE",
        "strikes": [{"id": world["strike"], "status": "ACTIVE"}],
    }
    again = await flows.decide_appeal(gql, tokens["admin"], world["appeal"], "OVERTURNED")
    assert again["code"] == "INVALID_STATE"
