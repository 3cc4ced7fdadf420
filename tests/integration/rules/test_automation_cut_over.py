"""``cutOverAutomationRule``: the rules migrated from an automation rule become LIVE and the automation rule is
disabled, in one audited transaction; ``submitSignal`` then gets its effect from the rules alone (its outcome is
NO_RULE, its ``ruleHits`` say what the rules did) with the automation rule's bands: a decision with its actions and
an automated DSA statement at or above the decide threshold, a case for a person between the thresholds, nothing
below. An automation rule defined after migration 0012 gets its rules created by the cut-over."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from api.graphql.ids import parse_any, to_global_id
from domain.automation import AutomationRule, Band
from domain.region import Region
from persistence import migrate as migrations
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import NOW, fetch
from tests.integration.lifecycle import flows
from tests.integration.operations.test_automation import CLASSIFIER, define_rule
from tests.integration.rules.helpers import TRANSITION, mutate
from tests.integration.rules.test_rules_on_events import _refresh_rule_sets
from tests.integration.rules.test_threshold_migration import _client
from tests.integration.tokens import issue_partner_token, issue_staff_token

ERRORS = flows.ERRORS
CUT_OVER = f"""
mutation($input: CutOverAutomationRuleInput!) {{ cutOverAutomationRule(input: $input) {{
  __typename ... on CutOverAutomationRuleSuccess {{ automationRule {{ id enabled }} createdRules
    rules {{ id name state currentVersion {{ number state source authorId }} }} }} {ERRORS} }} }}"""
SIGNAL = f"""
mutation($input: SubmitSignalInput!) {{ submitSignal(input: $input) {{
  __typename ... on SubmitSignalSuccess {{ outcomes {{ outcome report {{ id }} decision {{ id }}
    ruleHits {{ ruleId ruleVersion mode actions {{ action outcome reason caseId }} }} }} }} {ERRORS} }} }}"""
SCORES = (0.0, 0.59, 0.6, 0.7, 0.9499, 0.95, 0.97, 1.0)
ACTIONS = [{"kind": "REMOVE_CONTENT"}, {"kind": "SUSPEND_ACCOUNT", "durationDays": 7}]


async def cut_over(gql: GraphQLClient, token: str, automation_rule_id: str) -> dict[str, Any]:
    body = await gql(CUT_OVER, {"input": {"automationRuleId": automation_rule_id}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["cutOverAutomationRule"]
    return result


async def _signal(
    gql: GraphQLClient, token: str, subject: str, policy: str, score: float, key: str | None = None
) -> dict[str, Any]:
    scores = [{"policyId": policy, "score": score}]
    variables = {"input": {"subjectId": subject, "classifier": CLASSIFIER, "scores": scores, "idempotencyKey": key}}
    [outcome] = flows.ok(await gql(SIGNAL, variables, token=token), "submitSignal", "SubmitSignalSuccess")["outcomes"]
    result: dict[str, Any] = outcome
    return result


def _raw(global_id: str) -> uuid.UUID:
    parsed = parse_any(global_id)
    assert parsed is not None
    return uuid.UUID(str(parsed[1]))


async def _bands_through_the_rules(
    gql: GraphQLClient, db_url: str, admin: str, platform: str, policy: str, rules: dict[str, Any], region: str
) -> None:
    """Every score of the grid on its own video (its own owner): the bands of the automation rule, by the rules
    (EU: their decisions have DSA statements)."""
    banding = AutomationRule(
        region=Region(region),
        policy_id=_raw(policy),
        classifier=CLASSIFIER,
        enqueue_threshold=0.6,
        decide_threshold=0.95,
        actions=("REMOVE_CONTENT", "SUSPEND_ACCOUNT:7"),
        created_at=NOW,
        updated_at=NOW,
    )
    ids = {r["name"].rsplit(" ", 1)[1]: r for r in rules["rules"]}
    for i, score in enumerate(SCORES):
        owner = await flows.account(gql, platform, f"owner-{i}", region=region)
        video = await flows.content(gql, platform, owner, f"clip-{i}")
        outcome = await _signal(gql, platform, video, policy, score)
        assert (outcome["outcome"], outcome["report"], outcome["decision"]) == ("NO_RULE", None, None)
        band = banding.band(score)
        hits = outcome["ruleHits"]
        if band is Band.IGNORE:
            assert hits == [], score
            assert await fetch(db_url, "SELECT r.id FROM reports r JOIN contents c ON c.id = r.subject_id "
                                       "WHERE c.external_id = $1", f"clip-{i}") == []  # fmt: skip
            continue
        [hit] = hits
        rule = ids["decide" if band is Band.DECIDE else "enqueue"]
        assert (hit["ruleId"], hit["ruleVersion"], hit["mode"]) == (
            rule["id"],
            rule["currentVersion"]["number"],
            "LIVE",
        )
        [action] = hit["actions"]
        if band is Band.ENQUEUE:
            assert (action["action"], action["outcome"]) == ("HOLD", "TAKEN"), action
            case_id = to_global_id("Case", action["reason"].removeprefix("case "))
            case = await flows.node(gql, admin, case_id, "... on Case { state decision { id } reports { source } }")
            assert case == {"id": case_id, "state": "OPEN", "decision": None, "reports": [{"source": "AUTOMATED"}]}
            continue
        assert (action["action"], action["outcome"]) == ("DECIDE", "TAKEN"), action
        decision_id = to_global_id("Decision", action["reason"].removeprefix("decision "))
        selection = "... on Decision { verdict automated deciderId actions { kind source startsAt endsAt } }"
        seen = await flows.node(gql, admin, decision_id, selection)
        assert seen is not None
        assert (seen["verdict"], seen["automated"]) == ("VIOLATING", True)
        assert seen["deciderId"] == f"rule:{_raw(rule['id'])}:v{rule['currentVersion']['number']}"
        decided = {a["kind"]: a for a in seen["actions"] if a["source"] == "DECISION"}
        assert sorted(decided) == ["REMOVE_CONTENT", "SUSPEND_ACCOUNT"]
        suspension = decided["SUSPEND_ACCOUNT"]
        assert suspension["endsAt"] is not None
        [statement] = await fetch(
            db_url, "SELECT fields FROM statements_of_reasons WHERE decision_id = $1", _raw(decision_id)
        )
        fields = json.loads(statement["fields"])
        assert (fields["automated_decision"], fields["automated_detection"]) == ("AUTOMATED_DECISION_FULLY", "Yes")


async def test_a_migrated_automation_rule_is_cut_over_with_the_same_bands(db_url: str) -> None:
    async with _client(db_url) as gql:
        admin = await issue_staff_token(db_url, "admin", "*")
        hate = await flows.policy(gql, admin, "HATE_SPEECH")
        defined = await define_rule(gql, admin, hate, region="EU", decideThreshold=0.95, actions=ACTIONS)
        automation_id = defined["automationRule"]["id"]
    # The database as it was before 0012, with its automation rule, then migrated: two SHADOW rules cite it.
    await asyncio.to_thread(migrations.downgrade, db_url, "0011")
    await migrations.upgrade_async(db_url)
    before = await fetch(
        db_url, "SELECT rule_id, number FROM rule_versions WHERE migrated_from = $1", _raw(automation_id)
    )
    assert len({r["rule_id"] for r in before}) == 2

    async with _client(db_url) as gql:
        platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "EU")
        request_id = f"cut-over-{uuid.uuid4().hex[:8]}"
        body = await gql.http.post(
            "/graphql",
            json={"query": CUT_OVER, "variables": {"input": {"automationRuleId": automation_id}}},
            headers={"Authorization": f"Bearer {admin}", "X-Request-Id": request_id},
        )
        done = body.json()["data"]["cutOverAutomationRule"]
        assert done["__typename"] == "CutOverAutomationRuleSuccess", done
        assert (done["automationRule"], done["createdRules"]) == ({"id": automation_id, "enabled": False}, 0)
        assert [r["name"].rsplit(" ", 1)[1] for r in done["rules"]] == ["decide", "enqueue"]
        # decide: version 1 (0012) then LIVE 2; enqueue: 1 (0012), hold() 2 (0020), then LIVE 3.
        assert [(r["state"], r["currentVersion"]["number"]) for r in done["rules"]] == [("LIVE", 2), ("LIVE", 3)]
        assert done["rules"][1]["currentVersion"]["source"].rstrip().endswith("then hold()")

        audited = await fetch(
            db_url, "SELECT action, subject_kind, subject_id FROM audit_events WHERE request_id = $1", request_id
        )
        assert {(a["subject_kind"], a["action"]) for a in audited} == {
            ("AutomationRule", "cutOverAutomationRule"),
            ("Rule", "transitionRule"),
        }
        assert {a["subject_id"] for a in audited if a["subject_kind"] == "Rule"} == {
            str(_raw(r["id"])) for r in done["rules"]
        }

        again = await cut_over(gql, admin, automation_id)
        assert (again["__typename"], again["code"]) == ("InvalidStateError", "INVALID_STATE")

        await _refresh_rule_sets()
        await _bands_through_the_rules(gql, db_url, admin, platform, hate, done, "EU")


async def test_a_rule_defined_after_the_migration_is_created_then_cut_over(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "EU")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    defined = await define_rule(gql, admin, hate, region="EU", decideThreshold=0.95, actions=ACTIONS)
    automation_id = defined["automationRule"]["id"]
    assert await fetch(db_url, "SELECT id FROM rules") == []

    done = await cut_over(gql, admin, automation_id)
    assert done["__typename"] == "CutOverAutomationRuleSuccess", done
    assert (done["automationRule"]["enabled"], done["createdRules"]) == (False, 2)
    assert [(r["state"], r["currentVersion"]["number"]) for r in done["rules"]] == [("LIVE", 2), ("LIVE", 2)]
    versions = await fetch(
        db_url,
        "SELECT v.number, v.state, v.migrated_from, v.author_id FROM rule_versions v ORDER BY v.rule_id, v.number",
    )
    assert {(v["number"], v["state"], v["migrated_from"]) for v in versions} == {
        (1, "SHADOW", _raw(automation_id)),
        (2, "LIVE", _raw(automation_id)),
    }
    assert {v["author_id"] for v in versions} == {done["rules"][0]["currentVersion"]["authorId"]}
    again = await cut_over(gql, admin, automation_id)
    assert (again["__typename"], again["code"]) == ("InvalidStateError", "INVALID_STATE")

    await _refresh_rule_sets()
    await _bands_through_the_rules(gql, db_url, admin, platform, hate, done, "EU")

    # A retried signal (same idempotency key) meets the rules as the same event: nothing is filed or decided twice,
    # and its hit shows what the first evaluation did (the action's record, rule_action_takes).
    owner = await flows.account(gql, platform, "owner-retry", region="EU")
    video = await flows.content(gql, platform, owner, "clip-retry")
    counts = "SELECT (SELECT count(*) FROM reports) AS reports, (SELECT count(*) FROM decisions) AS decisions"
    (before,) = await fetch(db_url, counts)
    first = await _signal(gql, platform, video, hate, 0.97, key="retry-1")
    assert [a["outcome"] for a in first["ruleHits"][0]["actions"]] == ["TAKEN"]
    (after,) = await fetch(db_url, counts)
    assert (after["reports"], after["decisions"]) == (before["reports"] + 1, before["decisions"] + 1)
    retried = await _signal(gql, platform, video, hate, 0.97, key="retry-1")
    assert retried["ruleHits"][0]["actions"] == first["ruleHits"][0]["actions"]
    assert await fetch(db_url, counts) == [after]


async def test_the_cut_over_keeps_the_automation_rule_as_it_stands_now(db_url: str, gql: GraphQLClient) -> None:
    """Migrated rules whose automation rule was reconfigured since get a version with its current text first."""
    admin = await issue_staff_token(db_url, "admin", "*")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    automation_id = (await define_rule(gql, admin, hate))["automationRule"]["id"]
    first = await cut_over(gql, admin, automation_id)
    assert first["__typename"] == "CutOverAutomationRuleSuccess"
    # Back on the old path: a person takes the rules back to SHADOW and re-enables the automation rule with a new
    # threshold; a second cut-over follows it.
    for rule in first["rules"]:
        await mutate(gql, admin, TRANSITION, {"ruleId": rule["id"], "state": "SHADOW"})
    redefined = await define_rule(gql, admin, hate, decideThreshold=0.8)
    assert redefined["automationRule"]["enabled"] is True
    done = await cut_over(gql, admin, automation_id)
    assert done["__typename"] == "CutOverAutomationRuleSuccess", done
    assert done["createdRules"] == 0
    decide, enqueue = done["rules"]
    # v1 SHADOW (created), v2 LIVE (first cut-over), v3 SHADOW (the person), v4 the new text, v5 LIVE
    assert (decide["state"], decide["currentVersion"]["number"]) == ("LIVE", 5)
    assert ">= 0.8\n" in decide["currentVersion"]["source"]
    assert "< 0.8\n" in enqueue["currentVersion"]["source"]


async def test_who_may_cut_over(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    automation_id = (await define_rule(gql, admin, hate))["automationRule"]["id"]  # US, REMOVE_CONTENT
    suspending = (await define_rule(gql, admin, hate, region="EU", actions=ACTIONS))["automationRule"]["id"]

    elsewhere = await issue_staff_token(db_url, "policy_manager", "EU")
    refused = await cut_over(gql, elsewhere, automation_id)
    assert (refused["__typename"], refused["code"]) == ("NotFoundError", "NOT_FOUND")  # as node(id) pretends
    no_rules = await issue_partner_token(db_url, "policy-tool", ["policies:publish"], "US")
    refused = await cut_over(gql, no_rules, automation_id)
    assert (refused["__typename"], refused["code"], refused["field"]) == (
        "ForbiddenError",
        "FORBIDDEN",
        "automationRuleId",
    )
    manager_eu = await issue_staff_token(db_url, "policy_manager", "EU", name="pm-eu-2")
    refused = await cut_over(gql, manager_eu, suspending)  # suspending accounts needs accounts:ban
    assert (refused["__typename"], refused["code"]) == ("ForbiddenError", "FORBIDDEN")
    assert await fetch(db_url, "SELECT id FROM rules") == []
    assert {r["enabled"] for r in await fetch(db_url, "SELECT enabled FROM automation_rules")} == {True}

    manager_us = await issue_staff_token(db_url, "policy_manager", "US")
    done = await cut_over(gql, manager_us, automation_id)
    assert done["__typename"] == "CutOverAutomationRuleSuccess", done


async def test_a_migrated_rule_a_person_took_out_of_shadow_stops_the_cut_over(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    automation_id = (await define_rule(gql, admin, hate))["automationRule"]["id"]
    done = await cut_over(gql, admin, automation_id)
    # Enabling the automation rule again while its rules are LIVE would act twice on every signal: refused.
    refused = await define_rule(gql, admin, hate)
    assert (refused["__typename"], refused["code"], refused["field"]) == (
        "InvalidStateError",
        "INVALID_STATE",
        "enabled",
    )
    assert {r["enabled"] for r in await fetch(db_url, "SELECT enabled FROM automation_rules")} == {False}
    for rule in done["rules"]:  # a person takes both out of LIVE, then enables the automation rule again
        await mutate(gql, admin, TRANSITION, {"ruleId": rule["id"], "state": "DISABLED"})
    assert (await define_rule(gql, admin, hate))["__typename"] == "DefineAutomationRuleSuccess"
    before = await fetch(db_url, "SELECT count(*) AS n FROM rule_versions")

    refused = await cut_over(gql, admin, automation_id)
    assert (refused["__typename"], refused["code"]) == ("InvalidStateError", "INVALID_STATE")
    assert "DISABLED" in refused["message"]
    assert await fetch(db_url, "SELECT count(*) AS n FROM rule_versions") == before
    assert {r["enabled"] for r in await fetch(db_url, "SELECT enabled FROM automation_rules")} == {True}
