"""Who may sanction, through the API: one domain rule (``ensure_may_apply``) for requested actions, ladder steps,
automation rules and automated decisions; the FORBIDDEN payload changes nothing."""

from __future__ import annotations

import pytest

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.operations.test_automation import define_rule, signal
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "mod": await issue_staff_token(db_url, "moderator", "US"),
        "vendor": await issue_staff_token(db_url, "vendor_moderator", "US"),
        "pm": await issue_staff_token(db_url, "policy_manager", "US"),
    }


@pytest.mark.parametrize(
    "action", [{"kind": "RESTRICT_FEATURES", "durationDays": 7}, {"kind": "HOLD_ADS", "durationDays": 3}]
)
async def test_restricting_and_holding_ads_need_accounts_ban(
    db_url: str, gql: GraphQLClient, tokens: dict[str, str], action: dict[str, object]
) -> None:
    creator = await flows.account(gql, tokens["platform"], "sanction-1")
    video = await flows.content(gql, tokens["platform"], creator, "sanction-video-1")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    case_id = (await flows.report(gql, tokens["platform"], video, hate))["case"]["id"]
    before = await row_counts(db_url)

    refused = await flows.decide(gql, tokens["vendor"], case_id, hate, actions=[action])

    assert (refused["__typename"], refused["code"], refused["field"]) == ("ForbiddenError", "FORBIDDEN", "actions")
    assert await row_counts(db_url) == before
    decided = await flows.decide(gql, tokens["mod"], case_id, hate, actions=[action])
    assert decided["__typename"] == "DecideCaseSuccess", decided


async def test_a_ladder_restriction_after_a_vendor_moderators_decision_is_refused(
    db_url: str, gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    creator = await flows.account(gql, tokens["platform"], "sanction-2")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    first = await flows.content(gql, tokens["platform"], creator, "sanction-video-2a")
    first_case = (await flows.report(gql, tokens["platform"], first, hate))["case"]["id"]
    warned = await flows.decide(gql, tokens["vendor"], first_case, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    assert {a["kind"] for a in warned["actions"]} == {"REMOVE_CONTENT", "WARN"}  # a warning: the vendor may
    second = await flows.content(gql, tokens["platform"], creator, "sanction-video-2b")
    second_case = (await flows.report(gql, tokens["platform"], second, hate))["case"]["id"]
    before = await row_counts(db_url)

    refused = await flows.decide(gql, tokens["vendor"], second_case, hate, actions=[{"kind": "REMOVE_CONTENT"}])

    assert refused["code"] == "FORBIDDEN", refused
    assert "ladder" in refused["message"]
    assert await row_counts(db_url) == before
    decided = await flows.decide(gql, tokens["mod"], second_case, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    assert "RESTRICT_FEATURES" in {a["kind"] for a in decided["actions"]}


async def test_automation_goes_through_the_same_rule(db_url: str, gql: GraphQLClient, tokens: dict[str, str]) -> None:
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    holds = await define_rule(gql, tokens["pm"], hate, actions=[{"kind": "HOLD_ADS", "durationDays": 3}])
    assert (holds["__typename"], holds["field"]) == ("ForbiddenError", "actions")
    removes = await define_rule(gql, tokens["pm"], hate)
    assert removes["__typename"] == "DefineAutomationRuleSuccess", removes
    creator = await flows.account(gql, tokens["platform"], "sanction-3")
    outcomes = []
    for n in range(2):
        video = await flows.content(gql, tokens["platform"], creator, f"sanction-video-3{n}")
        body = await signal(gql, tokens["platform"], video, hate, 0.99)
        [outcome] = flows.ok(body, "submitSignal", "SubmitSignalSuccess")["outcomes"]
        outcomes.append(outcome["outcome"])

    assert outcomes == ["DECIDED", "ENQUEUED"]  # the second strike's 7-day restriction is left to a human
