"""`rerouteCases` (issue 14, point 8): cases opened before a fitting queue existed wait outside any queue; once a
queue is defined, rerouting moves them in (audited, region-guarded, typed errors), and claimNextCase finds them."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.lifecycle.flows import ERRORS
from tests.integration.operations.helpers import claim_next, define_queue
from tests.integration.tokens import issue_staff_token, row_counts

REROUTE = f"""
mutation($input: RerouteCasesInput!) {{ rerouteCases(input: $input) {{ __typename
  ... on RerouteCasesSuccess {{ routedCount unmatchedCount cases {{ id queueId slaDueAt }} }} {ERRORS} }} }}"""
CASE = "query($id: ID!) { node(id: $id) { ... on Case { id queueId slaDueAt history { nodes { action } } } } }"


async def _unqueued_case(gql: GraphQLClient, admin: str, region: str, name: str) -> dict[str, Any]:
    owner = await flows.account(gql, admin, f"{name}-owner", region=region)
    video = await flows.content(gql, admin, owner, f"{name}-video")
    policy = await flows.policy(gql, admin, f"{name.upper()}_POLICY")
    case = (await flows.report(gql, admin, video, policy))["case"]
    found = (await gql(CASE, {"id": case["id"]}, token=admin))["data"]["node"]
    assert found["queueId"] is None  # no queue existed in the region
    return dict(found)


async def test_reroute_moves_waiting_cases_into_the_new_queue(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    waiting = await _unqueued_case(gql, admin, "APAC", "apac")
    queue = await define_queue(
        gql,
        admin,
        "apac-content",
        region="APAC",
        isDefault=True,
        slaHours={"urgent": 1, "high": 2, "medium": 3, "low": 4},
    )
    moderator = await issue_staff_token(db_url, "moderator", "APAC")
    assert (await claim_next(gql, moderator, queue["id"]))["case"] is None  # defining a queue moves nothing

    body = await gql(REROUTE, {"input": {"region": "APAC"}}, token=admin)

    result = flows.ok(body, "rerouteCases", "RerouteCasesSuccess")
    assert (result["routedCount"], result["unmatchedCount"]) == (1, 0)
    assert result["cases"][0]["id"] == waiting["id"]
    assert result["cases"][0]["queueId"] == queue["id"]
    assert result["cases"][0]["slaDueAt"] < waiting["slaDueAt"]  # the queue's tighter SLA applies now
    after = (await gql(CASE, {"id": waiting["id"]}, token=admin))["data"]["node"]
    assert [e["action"] for e in after["history"]["nodes"]][-1] == "rerouteCases"
    assert (await claim_next(gql, moderator, queue["id"]))["case"]["id"] == waiting["id"]

    again = flows.ok(
        await gql(REROUTE, {"input": {"region": "APAC"}}, token=admin), "rerouteCases", "RerouteCasesSuccess"
    )
    assert (again["routedCount"], again["unmatchedCount"]) == (0, 0)


async def test_cases_no_queue_takes_stay_unqueued(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    waiting = await _unqueued_case(gql, admin, "ROW", "row")
    await define_queue(gql, admin, "row-ads", region="ROW", surface="ADS", isDefault=True)

    result = flows.ok(
        await gql(REROUTE, {"input": {"region": "ROW"}}, token=admin), "rerouteCases", "RerouteCasesSuccess"
    )

    assert (result["routedCount"], result["unmatchedCount"]) == (0, 1)
    assert (await gql(CASE, {"id": waiting["id"]}, token=admin))["data"]["node"]["queueId"] is None


async def test_reroute_is_region_guarded_and_checks_its_input(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    waiting = await _unqueued_case(gql, admin, "APAC", "guarded")
    await define_queue(gql, admin, "apac-content", region="APAC", isDefault=True)
    us_manager = await issue_staff_token(db_url, "policy_manager", "US")
    before = await row_counts(db_url)

    refused = (await gql(REROUTE, {"input": {"region": "APAC"}}, token=us_manager))["data"]["rerouteCases"]
    invalid = (await gql(REROUTE, {"input": {"region": "APAC", "limit": 0}}, token=admin))["data"]["rerouteCases"]
    moderator = await issue_staff_token(db_url, "moderator", "APAC")
    forbidden = await gql(REROUTE, {"input": {"region": "APAC"}}, token=moderator)

    assert (refused["__typename"], refused["code"]) == ("ForbiddenError", "FORBIDDEN")
    assert (invalid["__typename"], invalid["code"], invalid["field"]) == ("InvalidInputError", "INVALID_INPUT", "limit")
    assert [e["extensions"]["code"] for e in forbidden["errors"]] == ["FORBIDDEN"]
    assert (await gql(CASE, {"id": waiting["id"]}, token=admin))["data"]["node"]["queueId"] is None
    after = await row_counts(db_url)
    assert {
        k: v for k, v in after.items() if k not in ("audit_events", "principals", "role_assignments", "api_tokens")
    } == {k: v for k, v in before.items() if k not in ("audit_events", "principals", "role_assignments", "api_tokens")}
