"""Rules over the real app: created in DRAFT, each change a new version, the lifecycle enforced, the language's
errors as typed errors with line and column, per-region permissions, everything audited."""

from __future__ import annotations

from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import fetch
from tests.integration.lifecycle import flows
from tests.integration.rules.helpers import CREATE, TRANSITION, UPDATE, mutate, rule_text
from tests.integration.tokens import issue_staff_token, row_counts


async def test_a_rule_goes_through_its_lifecycle_one_version_per_change(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    manager = await issue_staff_token(db_url, "policy_manager", "US")
    created = await mutate(gql, manager, CREATE, {"region": "US", "source": rule_text()})
    assert created["__typename"] == "RuleSuccess", created
    rule = created["rule"]
    assert (rule["name"], rule["state"], rule["currentVersion"]["number"]) == ("many-logins", "DRAFT", 1)

    updated = await mutate(
        gql, manager, UPDATE, {"ruleId": rule["id"], "source": rule_text(threshold=5), "dailyActionCap": 100}
    )
    assert updated["rule"]["currentVersion"]["number"] == 2
    assert "count(logins, account, 1h) >= 5" in updated["rule"]["currentVersion"]["source"]
    states = []
    for state in ("SHADOW", "LIVE", "DISABLED"):
        moved = await mutate(gql, manager, TRANSITION, {"ruleId": rule["id"], "state": state})
        states.append((moved["rule"]["state"], moved["rule"]["currentVersion"]["number"]))
    assert states == [("SHADOW", 3), ("LIVE", 4), ("DISABLED", 5)]
    refused = await mutate(gql, manager, TRANSITION, {"ruleId": rule["id"], "state": "LIVE"})
    assert (refused["code"], refused["message"]) == ("INVALID_STATE", "a DISABLED rule cannot become LIVE")

    body = await gql(
        "query($id: ID!) { rule(id: $id) { state } ruleVersions(ruleId: $id) { number state dailyActionCap } "
        "rules(first: 10) { nodes { name state currentVersion { number } } } }",
        {"id": rule["id"]},
        token=manager,
    )
    assert body["data"]["rule"] == {"state": "DISABLED"}
    assert [v["number"] for v in body["data"]["ruleVersions"]] == [5, 4, 3, 2, 1]
    assert body["data"]["ruleVersions"][0]["dailyActionCap"] == 100
    assert body["data"]["rules"]["nodes"] == [
        {"name": "many-logins", "state": "DISABLED", "currentVersion": {"number": 5}}
    ]
    audits = await fetch(db_url, "SELECT action FROM audit_events WHERE subject_kind = 'Rule' ORDER BY seq")
    assert [a["action"] for a in audits] == ["createRule", "updateRule"] + ["transitionRule"] * 3


async def test_the_languages_errors_are_typed_with_line_and_column(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    before = await row_counts(db_url)
    unknown_list = rule_text().replace("count(logins, account, 1h) >= 3", 'has_keyword(ip, "nowhere")')
    for source, code, line in [
        (rule_text().replace("when", "whenever"), "SYNTAX_ERROR", 5),
        (unknown_list, "UNKNOWN_LIST", 5),
        (rule_text().replace("policy SPAM", "policy NOPE"), "UNKNOWN_POLICY", 4),
    ]:
        refused = await mutate(gql, admin, CREATE, {"region": "US", "source": source})
        assert refused["__typename"] == "RuleTextError", refused
        assert (refused["code"], refused["ruleCode"], refused["line"], refused["field"]) == (
            "INVALID_INPUT",
            code,
            line,
            "source",
        )
        assert refused["column"] >= 1
    other_region = await mutate(gql, admin, CREATE, {"region": "EU", "source": rule_text(region="US")})
    assert (other_region["code"], other_region["field"]) == ("INVALID_INPUT", "source")
    assert await row_counts(db_url) == before


async def test_rules_are_written_and_read_per_region(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    us_rule = (await mutate(gql, admin, CREATE, {"region": "US", "source": rule_text()}))["rule"]
    eu_manager = await issue_staff_token(db_url, "policy_manager", "EU")
    forbidden = await mutate(gql, eu_manager, CREATE, {"region": "US", "source": rule_text(name="x")})
    assert (forbidden["code"], forbidden["field"]) == ("FORBIDDEN", "region")
    hidden = await mutate(gql, eu_manager, TRANSITION, {"ruleId": us_rule["id"], "state": "SHADOW"})
    assert hidden["code"] == "NOT_FOUND"
    eu_analyst = await issue_staff_token(db_url, "analyst", "EU")
    body = await gql(
        "query($id: ID!) { rule(id: $id) { id } rules(first: 5) { nodes { id } } }",
        {"id": us_rule["id"]},
        token=eu_analyst,
    )
    assert body["data"] == {"rule": None, "rules": {"nodes": []}}
    us_analyst = await issue_staff_token(db_url, "analyst", "US")
    body = await gql("{ rules(first: 5) { nodes { name } } }", token=us_analyst)
    assert body["data"]["rules"]["nodes"] == [{"name": "many-logins"}]
    refused = await gql(
        "mutation($input: TransitionRuleInput!) { transitionRule(input: $input) { __typename } }",
        {"input": {"ruleId": us_rule["id"], "state": "SHADOW"}},
        token=us_analyst,
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
