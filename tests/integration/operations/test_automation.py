"""Automation rules and classifier signals through the API, on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import METRICS, claim_next, define_queue
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts

ERRORS = flows.ERRORS
CLASSIFIER = "hate-v3"

DEFINE_RULE = f"""
mutation($input: DefineAutomationRuleInput!) {{ defineAutomationRule(input: $input) {{
  __typename ... on DefineAutomationRuleSuccess {{ automationRule {{ id region classifier enqueueThreshold
    decideThreshold enabled version actions {{ kind durationDays }} policy {{ code }} }} }} {ERRORS} }} }}"""

SUBMIT_SIGNAL = f"""
mutation($input: SubmitSignalInput!) {{ submitSignal(input: $input) {{
  __typename ... on SubmitSignalSuccess {{ outcomes {{ policyId score outcome rule {{ id }}
    report {{ id source reporterKind }} case {{ id state reportCount priority }}
    decision {{ id verdict automated deciderKind deciderId }} }} }} {ERRORS} }} }}"""

RULES = """
query($filter: AutomationRuleFilter) { automationRules(filter: $filter) {
  nodes { id region classifier policy { code } } } }"""


async def define_rule(
    gql: GraphQLClient, token: str, policy_id: str, *, region: str = "US", **fields: Any
) -> dict[str, Any]:
    payload = {
        "region": region,
        "policyId": policy_id,
        "classifier": CLASSIFIER,
        "enqueueThreshold": 0.6,
        "decideThreshold": 0.9,
        "actions": [{"kind": "REMOVE_CONTENT"}],
        **fields,
    }
    body = await gql(DEFINE_RULE, {"input": payload}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["defineAutomationRule"]
    return result


async def signal(
    gql: GraphQLClient, token: str, subject_id: str, policy_id: str, score: float, key: str | None = None
) -> dict[str, Any]:
    payload = {
        "subjectId": subject_id,
        "classifier": CLASSIFIER,
        "scores": [{"policyId": policy_id, "score": score}],
        "idempotencyKey": key,
    }
    return await gql(SUBMIT_SIGNAL, {"input": payload}, token=token)


async def _setup(db_url: str, gql: GraphQLClient) -> tuple[str, str, str, str, str]:
    """(admin token, platform token, hate policy id, creator id, video id) with a US rule for hate speech."""
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    creator = await flows.account(gql, platform, "creator-1")
    video = await flows.content(gql, platform, creator, "video-1")
    defined = await define_rule(gql, admin, hate)
    assert defined["__typename"] == "DefineAutomationRuleSuccess", defined
    return admin, platform, hate, creator, video


async def test_a_high_score_removes_the_content_and_strikes_the_owner(db_url: str, gql: GraphQLClient) -> None:
    admin, platform, hate, creator, video = await _setup(db_url, gql)
    start = datetime.now(UTC) - timedelta(minutes=1)

    body = await signal(gql, platform, video, hate, 0.97, key="sig-1")

    [outcome] = flows.ok(body, "submitSignal", "SubmitSignalSuccess")["outcomes"]
    assert (outcome["outcome"], outcome["score"], outcome["policyId"]) == ("DECIDED", 0.97, hate)
    assert outcome["rule"] is None  # the platform token may not read policies
    assert outcome["report"]["source"] == "AUTOMATED"
    assert outcome["case"]["state"] == "DECIDED"
    decision = outcome["decision"]
    assert (decision["verdict"], decision["automated"], decision["deciderKind"]) == ("VIOLATING", True, "AUTOMATION")
    assert decision["deciderId"].startswith("automation:")
    selection = "... on Decision { automated deciderKind policyVersion { number } actions { kind source inForce } "
    seen = await flows.node(gql, admin, decision["id"], selection + "strikes { status } }")
    assert seen is not None
    assert (seen["automated"], seen["deciderKind"], seen["policyVersion"]) == (True, "AUTOMATION", {"number": 1})
    kinds = {(a["kind"], a["source"], a["inForce"]) for a in seen["actions"]}
    assert kinds == {("REMOVE_CONTENT", "DECISION", True), ("WARN", "LADDER", True)}
    assert seen["strikes"] == [{"status": "ACTIVE"}]
    content = await flows.node(gql, admin, video, "... on Content { visibility }")
    assert content == {"id": video, "visibility": "REMOVED"}
    owner = await flows.node(gql, admin, creator, "... on Account { strikes { status } }")
    assert owner is not None
    assert owner["strikes"] == [{"status": "ACTIVE"}]

    before = await row_counts(db_url)
    again = flows.ok(await signal(gql, platform, video, hate, 0.97, key="sig-1"), "submitSignal", "SubmitSignalSuccess")
    assert again["outcomes"][0]["decision"]["id"] == decision["id"]
    assert await row_counts(db_url) == before

    window = {"region": "US", "from": start.isoformat(), "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}
    metrics = (await gql(METRICS, window, token=admin))["data"]["moderationMetrics"]
    assert (metrics["automatedSharePercent"], metrics["humanSharePercent"]) == (100.0, 0.0)


async def test_a_middle_score_leaves_an_open_case_with_an_automated_report(db_url: str, gql: GraphQLClient) -> None:
    admin, platform, hate, _, video = await _setup(db_url, gql)

    body = await signal(gql, platform, video, hate, 0.75)

    [outcome] = flows.ok(body, "submitSignal", "SubmitSignalSuccess")["outcomes"]
    assert (outcome["outcome"], outcome["decision"]) == ("ENQUEUED", None)
    assert outcome["case"]["state"] == "OPEN"
    assert outcome["case"]["priority"] > 0
    case = await flows.node(
        gql, admin, outcome["case"]["id"], "... on Case { state decision { id } reports { source } }"
    )
    assert case == {
        "id": outcome["case"]["id"],
        "state": "OPEN",
        "decision": None,
        "reports": [{"source": "AUTOMATED"}],
    }
    content = await flows.node(gql, admin, video, "... on Content { visibility }")
    assert content == {"id": video, "visibility": "VISIBLE"}


async def test_a_low_score_does_nothing(db_url: str, gql: GraphQLClient) -> None:
    _, platform, hate, _, video = await _setup(db_url, gql)
    before = await row_counts(db_url)

    body = await signal(gql, platform, video, hate, 0.2)

    [outcome] = flows.ok(body, "submitSignal", "SubmitSignalSuccess")["outcomes"]
    assert (outcome["outcome"], outcome["report"], outcome["case"]) == ("IGNORED", None, None)
    assert await row_counts(db_url) == before


async def test_a_moderators_case_is_not_decided_by_automation(db_url: str, gql: GraphQLClient) -> None:
    admin, platform, hate, _, video = await _setup(db_url, gql)
    mod = await issue_staff_token(db_url, "moderator", "US")
    queue = await define_queue(gql, admin, "us-content", isDefault=True)
    case_id = (await flows.report(gql, platform, video, hate))["case"]["id"]
    claimed = await claim_next(gql, mod, queue["id"])
    assert claimed["case"]["id"] == case_id, claimed

    body = await signal(gql, platform, video, hate, 0.99)

    [outcome] = flows.ok(body, "submitSignal", "SubmitSignalSuccess")["outcomes"]
    assert outcome["outcome"] == "ENQUEUED"
    assert (outcome["case"]["id"], outcome["case"]["state"], outcome["case"]["reportCount"]) == (case_id, "ASSIGNED", 2)
    decided = await flows.decide(gql, mod, case_id, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    assert decided["__typename"] == "DecideCaseSuccess", decided


async def test_who_may_define_rules_and_send_signals(db_url: str, gql: GraphQLClient) -> None:
    admin, platform, hate, _, video = await _setup(db_url, gql)
    flagger = await issue_partner_token(db_url, "flagger", ["trusted_flagger"], "US")
    pm_eu = await issue_staff_token(db_url, "policy_manager", "EU")

    refused = await signal(gql, flagger, video, hate, 0.99)
    assert flows.error_code(refused) == "FORBIDDEN"
    other_region = await define_rule(gql, pm_eu, hate, region="US")
    assert (other_region["__typename"], other_region["field"]) == ("ForbiddenError", "region")
    bans = await define_rule(gql, pm_eu, hate, region="EU", actions=[{"kind": "BAN_ACCOUNT"}])
    assert (bans["__typename"], bans["field"]) == ("ForbiddenError", "actions")
    eu = await define_rule(gql, pm_eu, hate, region="EU", enqueueThreshold=0.5, decideThreshold=0.95)
    assert eu["__typename"] == "DefineAutomationRuleSuccess", eu
    rule = eu["automationRule"]
    assert (rule["region"], rule["enqueueThreshold"], rule["decideThreshold"], rule["version"]) == ("EU", 0.5, 0.95, 1)
    assert (rule["actions"], rule["policy"]) == (
        [{"kind": "REMOVE_CONTENT", "durationDays": None}],
        {"code": "HATE_SPEECH"},
    )
    changed = await define_rule(gql, pm_eu, hate, region="EU", enabled=False)
    assert (changed["automationRule"]["id"], changed["automationRule"]["enabled"]) == (rule["id"], False)
    assert changed["automationRule"]["version"] == 2
    inverted = await define_rule(gql, pm_eu, hate, region="EU", enqueueThreshold=0.9, decideThreshold=0.5)
    assert (inverted["__typename"], inverted["field"]) == ("InvalidInputError", "enqueueThreshold")

    seen_by_pm = (await gql(RULES, token=pm_eu))["data"]["automationRules"]["nodes"]
    assert [r["region"] for r in seen_by_pm] == ["EU"]
    everything = (await gql(RULES, token=admin))["data"]["automationRules"]["nodes"]
    assert sorted(r["region"] for r in everything) == ["EU", "US"]
    only_us = await gql(RULES, {"filter": {"region": "US", "policyId": hate}}, token=admin)
    assert [r["region"] for r in only_us["data"]["automationRules"]["nodes"]] == ["US"]
    refused_read = await gql(RULES, token=platform)
    assert flows.error_code(refused_read) == "FORBIDDEN"
