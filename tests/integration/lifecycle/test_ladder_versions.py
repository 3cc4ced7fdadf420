"""Strike ladders as data: seeded with the domain's defaults, changed by a policy manager per region and surface
(a new version, audited), and cited by the decisions that applied them."""

from __future__ import annotations

from typing import Any

import pytest

from domain.ladder import ADS_LADDER, CONTENT_LADDER, StrikeLadder
from domain.region import Region
from domain.subject import Surface
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts

LADDERS = """
query($filter: StrikeLadderFilter) { strikeLadders(first: 100, filter: $filter) { nodes {
  id region surface number countedSurfaces windowDays publishedBy
  steps { threshold action durationDays } severeStep { action durationDays } } } }"""

DEFINE = f"""
mutation($input: DefineStrikeLadderInput!) {{ defineStrikeLadder(input: $input) {{
  __typename ... on DefineStrikeLadderSuccess {{ strikeLadder {{ id region surface number
    steps {{ threshold action durationDays }} }} }} {flows.ERRORS} }} }}"""

CITED = "query($id: ID!) { node(id: $id) { ... on Decision { ladderVersion { number surface region } } } }"


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "moderator": await issue_staff_token(db_url, "moderator", "US"),
        "pm_us": await issue_staff_token(db_url, "policy_manager", "US"),
        "pm_eu": await issue_staff_token(db_url, "policy_manager", "EU"),
        "analyst": await issue_staff_token(db_url, "analyst", "US"),
    }


def _as_data(ladder: StrikeLadder) -> dict[str, Any]:
    severe = ladder.severe_step
    return {
        "countedSurfaces": sorted(s.value for s in ladder.surfaces),
        "windowDays": ladder.window_days,
        "steps": [_step(s.threshold, s.action.value, s.duration_days) for s in ladder.steps],
        "severeStep": None if severe is None else {"action": severe.action.value, "durationDays": severe.duration_days},
    }


def _step(threshold: int, action: str, duration_days: int | None) -> dict[str, Any]:
    return {"threshold": threshold, "action": action, "durationDays": duration_days}


async def test_the_seeded_versions_are_the_domain_defaults(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    body = await gql(LADDERS, token=tokens["admin"])
    assert "errors" not in body, body
    nodes = body["data"]["strikeLadders"]["nodes"]
    seeded = {(n["region"], n["surface"]): n for n in nodes}
    assert set(seeded) == {(r.value, s.value) for r in Region for s in Surface}
    defaults = {Surface.CONTENT: CONTENT_LADDER, Surface.ACCOUNT: CONTENT_LADDER, Surface.ADS: ADS_LADDER}
    for (_, surface), node in seeded.items():
        assert node["number"] == 1
        assert {k: node[k] for k in ("countedSurfaces", "windowDays", "steps", "severeStep")} == _as_data(
            defaults[Surface(surface)]
        )
    analyst = (await gql(LADDERS, token=tokens["analyst"]))["data"]["strikeLadders"]["nodes"]
    assert {n["region"] for n in analyst} == {"US"}  # readers as for policies, in their regions


async def test_a_new_version_applies_to_later_decisions_only(
    db_url: str, gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    creator = await flows.account(gql, tokens["platform"], "ladder-creator")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    first_video = await flows.content(gql, tokens["platform"], creator, "ladder-video-1")
    first_case = (await flows.report(gql, tokens["platform"], first_video, hate))["case"]["id"]
    first = await flows.decide(gql, tokens["moderator"], first_case, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    assert [a["kind"] for a in first["actions"] if a["source"] == "LADDER"] == ["WARN"]

    steps = [
        {"threshold": 1, "action": "RESTRICT_FEATURES", "durationDays": 3},
        {"threshold": 2, "action": "SUSPEND_ACCOUNT", "durationDays": 14},
    ]
    payload = {"region": "US", "surface": "CONTENT", "steps": steps, "countedSurfaces": ["CONTENT", "ACCOUNT"]}
    defined = await gql(DEFINE, {"input": payload}, token=tokens["pm_us"])
    ladder = flows.ok(defined, "defineStrikeLadder", "DefineStrikeLadderSuccess")["strikeLadder"]
    assert (ladder["region"], ladder["surface"], ladder["number"]) == ("US", "CONTENT", 2)

    second_video = await flows.content(gql, tokens["platform"], creator, "ladder-video-2")
    second_case = (await flows.report(gql, tokens["platform"], second_video, hate))["case"]["id"]
    second = await flows.decide(gql, tokens["moderator"], second_case, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    assert [a["kind"] for a in second["actions"] if a["source"] == "LADDER"] == ["SUSPEND_ACCOUNT"]

    for decided, number in ((first, 1), (second, 2)):
        cited = await gql(CITED, {"id": decided["decision"]["id"]}, token=tokens["moderator"])
        assert cited["data"]["node"]["ladderVersion"] == {"number": number, "surface": "CONTENT", "region": "US"}
    hidden = await gql(CITED, {"id": second["decision"]["id"]}, token=tokens["platform"])
    assert hidden["data"]["node"]["ladderVersion"] is None  # no ladders:read

    audit = await gql(
        '{ auditEvents(first: 5, filter: {action: "defineStrikeLadder"}) { nodes { subjectKind actorId } } }',
        token=tokens["admin"],
    )
    assert [e["subjectKind"] for e in audit["data"]["auditEvents"]["nodes"]] == ["StrikeLadder"]


async def test_who_may_define_and_what_is_refused(db_url: str, gql: GraphQLClient, tokens: dict[str, str]) -> None:
    good = {"region": "US", "surface": "ADS", "steps": [{"threshold": 1, "action": "WARN"}]}
    by_moderator = await gql(DEFINE, {"input": good}, token=tokens["moderator"])
    assert by_moderator["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # (the refusal itself is audited)
    before = await row_counts(db_url)
    elsewhere = (await gql(DEFINE, {"input": good}, token=tokens["pm_eu"]))["data"]["defineStrikeLadder"]
    assert (elsewhere["__typename"], elsewhere["field"]) == ("ForbiddenError", "region")
    bad_inputs = [
        ({**good, "steps": []}, "steps"),
        ({**good, "steps": [{"threshold": 2, "action": "WARN"}, {"threshold": 1, "action": "WARN"}]}, "steps"),
        ({**good, "steps": [{"threshold": 1, "action": "REMOVE_CONTENT"}]}, "steps[0]"),
        ({**good, "steps": [{"threshold": 1, "action": "SUSPEND_ACCOUNT"}]}, "steps[0]"),
        ({**good, "countedSurfaces": ["CONTENT"]}, "countedSurfaces"),
        ({**good, "windowDays": 0}, "windowDays"),
    ]
    for payload, field in bad_inputs:
        refused = (await gql(DEFINE, {"input": payload}, token=tokens["pm_us"]))["data"]["defineStrikeLadder"]
        assert (refused["code"], refused["field"]) == ("INVALID_INPUT", field), payload
    assert await row_counts(db_url) == before
