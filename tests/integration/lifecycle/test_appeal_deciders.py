"""An appeal is decided by someone other than the original decider, of at least the same seniority, in region."""

from __future__ import annotations

import pytest

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "senior": await issue_staff_token(db_url, "senior_moderator", "US"),
        "senior_eu": await issue_staff_token(db_url, "senior_moderator", "EU"),
        "policy_manager": await issue_staff_token(db_url, "policy_manager", "US"),
    }


async def _appealed(gql: GraphQLClient, tokens: dict[str, str], decider: str) -> str:
    creator = await flows.account(gql, tokens["platform"], "appellant")
    video = await flows.content(gql, tokens["platform"], creator, "video")
    spam = await flows.policy(gql, tokens["admin"], "SPAM", severity="LOW")
    case_id = (await flows.report(gql, tokens["platform"], video, spam))["case"]["id"]
    decided = await flows.decide(gql, tokens[decider], case_id, spam, actions=[{"kind": "LABEL"}])
    assert decided["__typename"] == "DecideCaseSuccess", decided
    appeal = await flows.file_appeal(gql, tokens["platform"], decided["decision"]["id"], creator)
    assert appeal["__typename"] == "FileAppealSuccess", appeal
    return str(appeal["appeal"]["id"])


async def test_a_less_senior_decider_is_forbidden(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    appeal = await _appealed(gql, tokens, "admin")

    junior = await flows.decide_appeal(gql, tokens["senior"], appeal, "OVERTURNED")
    assert junior["__typename"] == "ForbiddenError", junior
    also_junior = await flows.decide_appeal(gql, tokens["policy_manager"], appeal, "OVERTURNED")
    assert also_junior["__typename"] == "ForbiddenError", also_junior
    assert await flows.node(gql, tokens["senior"], appeal, "... on Appeal { state }") == {
        "id": appeal,
        "state": "PENDING",
    }


async def test_a_more_senior_decider_may_and_another_region_may_not(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    appeal = await _appealed(gql, tokens, "senior")

    elsewhere = await flows.decide_appeal(gql, tokens["senior_eu"], appeal, "OVERTURNED")
    assert elsewhere["__typename"] == "NotFoundError", elsewhere
    decided = await flows.decide_appeal(gql, tokens["policy_manager"], appeal, "UPHELD")
    assert decided["__typename"] == "DecideAppealSuccess", decided
    assert decided["appeal"]["state"] == "UPHELD"
