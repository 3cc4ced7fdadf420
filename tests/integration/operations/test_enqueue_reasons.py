"""submitSignal: a score ENQUEUED instead of DECIDED says why (a code and a message), one test per reason."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import claim_next, define_queue
from tests.integration.operations.test_automation import CLASSIFIER, define_rule
from tests.integration.tokens import issue_partner_token, issue_staff_token

SIGNAL = f"""
mutation($input: SubmitSignalInput!) {{ submitSignal(input: $input) {{
  __typename ... on SubmitSignalSuccess {{ outcomes {{ outcome case {{ id state }} decision {{ id }}
    reason {{ code message }} }} }} {flows.ERRORS} }} }}"""


async def _signal(
    gql: GraphQLClient, token: str, subject: str, policy: str, score: float, key: str | None = None
) -> dict[str, Any]:
    scores = [{"policyId": policy, "score": score}]
    variables = {"input": {"subjectId": subject, "classifier": CLASSIFIER, "scores": scores, "idempotencyKey": key}}
    [outcome] = flows.ok(await gql(SIGNAL, variables, token=token), "submitSignal", "SubmitSignalSuccess")["outcomes"]
    return dict(outcome)


async def _setup(db_url: str, gql: GraphQLClient) -> tuple[str, str, str, str]:
    """(admin, platform, hate policy with a US rule removing content, a creator)."""
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    assert (await define_rule(gql, admin, hate))["__typename"] == "DefineAutomationRuleSuccess"
    creator = await flows.account(gql, platform, "creator-reasons")
    return admin, platform, hate, creator


def _enqueued_for(outcome: dict[str, Any], code: str) -> str:
    assert outcome["outcome"] == "ENQUEUED", outcome
    assert outcome["decision"] is None
    assert outcome["reason"]["code"] == code, outcome
    message: str = outcome["reason"]["message"]
    assert message
    return message


async def test_a_decided_score_carries_no_reason(db_url: str, gql: GraphQLClient) -> None:
    _, platform, hate, creator = await _setup(db_url, gql)
    video = await flows.content(gql, platform, creator, "video-decided")
    outcome = await _signal(gql, platform, video, hate, 0.97)
    assert (outcome["outcome"], outcome["reason"]) == ("DECIDED", None)


async def test_below_the_decide_threshold(db_url: str, gql: GraphQLClient) -> None:
    _, platform, hate, creator = await _setup(db_url, gql)
    video = await flows.content(gql, platform, creator, "video-middle")
    message = _enqueued_for(await _signal(gql, platform, video, hate, 0.75), "BELOW_DECIDE_THRESHOLD")
    assert "0.75" in message
    assert "0.9" in message


async def test_the_ladder_step_needs_accounts_ban(db_url: str, gql: GraphQLClient) -> None:
    _, platform, hate, creator = await _setup(db_url, gql)
    first = await flows.content(gql, platform, creator, "video-strike-1")
    assert (await _signal(gql, platform, first, hate, 0.97))["outcome"] == "DECIDED"  # strike 1: a warning
    second = await flows.content(gql, platform, creator, "video-strike-2")
    outcome = await _signal(gql, platform, second, hate, 0.97)  # strike 2 reaches a restriction
    message = _enqueued_for(outcome, "LADDER_STEP_NEEDS_PERMISSION")
    assert "accounts:ban" in message
    assert "ladder" in message
    assert outcome["case"]["state"] == "OPEN"


async def test_a_case_a_moderator_holds(db_url: str, gql: GraphQLClient) -> None:
    admin, platform, hate, creator = await _setup(db_url, gql)
    mod = await issue_staff_token(db_url, "moderator", "US")
    queue = await define_queue(gql, admin, "us-content-reasons", isDefault=True)
    video = await flows.content(gql, platform, creator, "video-held")
    case_id = (await flows.report(gql, platform, video, hate))["case"]["id"]
    assert (await claim_next(gql, mod, queue["id"]))["case"]["id"] == case_id
    _enqueued_for(await _signal(gql, platform, video, hate, 0.99), "CASE_HELD")


async def test_an_escalated_case(db_url: str, gql: GraphQLClient) -> None:
    admin, platform, hate, creator = await _setup(db_url, gql)
    mod = await issue_staff_token(db_url, "moderator", "US")
    queue = await define_queue(gql, admin, "us-content-escalations", isDefault=True)
    video = await flows.content(gql, platform, creator, "video-escalated")
    case_id = (await flows.report(gql, platform, video, hate))["case"]["id"]
    assert (await claim_next(gql, mod, queue["id"]))["case"]["id"] == case_id
    escalated = await gql(flows.ESCALATE_CASE, {"input": {"caseId": case_id, "reason": "Unclear."}}, token=mod)
    assert flows.ok(escalated, "escalateCase", "EscalateCaseSuccess")["case"]["state"] == "ESCALATED"
    _enqueued_for(await _signal(gql, platform, video, hate, 0.99), "CASE_ESCALATED")


async def test_actions_that_do_not_apply_to_the_subject(db_url: str, gql: GraphQLClient) -> None:
    _, platform, hate, creator = await _setup(db_url, gql)  # the rule removes content; an account is scored
    _enqueued_for(await _signal(gql, platform, creator, hate, 0.99), "ACTIONS_NOT_APPLICABLE")


async def test_a_pending_ads_review_case(db_url: str, gql: GraphQLClient) -> None:
    admin, platform, _, _ = await _setup(db_url, gql)
    advertiser = await flows.account(gql, platform, "advertiser-reasons", kind="ADVERTISER")
    scam = await flows.policy(gql, admin, "SCAM_ADS", surface="ADS")
    assert (await define_rule(gql, admin, scam, actions=[]))["__typename"] == "DefineAutomationRuleSuccess"
    ad = await flows.ad(gql, platform, advertiser, "ad-pending")
    assert ad["ad"]["reviewStatus"] == "PENDING_REVIEW"
    outcome = await _signal(gql, platform, ad["ad"]["id"], scam, 0.99)
    _enqueued_for(outcome, "AD_UNDER_REVIEW")
    assert outcome["case"]["id"] == ad["case"]["id"]


async def test_a_retry_of_an_enqueued_signal(db_url: str, gql: GraphQLClient) -> None:
    _, platform, hate, creator = await _setup(db_url, gql)
    video = await flows.content(gql, platform, creator, "video-retried")
    first = await _signal(gql, platform, video, hate, 0.75, key="reasons-1")
    _enqueued_for(first, "BELOW_DECIDE_THRESHOLD")
    again = await _signal(gql, platform, video, hate, 0.75, key="reasons-1")
    _enqueued_for(again, "REPLAYED")
    assert again["case"]["id"] == first["case"]["id"]
