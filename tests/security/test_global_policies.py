"""Issue 10 item 9: a policy is global (`Policy.region` null), cited by every region's decisions: defining one or
publishing its next version needs policies:publish in every region (`*`)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_staff_token, row_counts

POLICY = {
    "code": "HATE_SPEECH",
    "name": "Hate speech",
    "surface": "CONTENT",
    "severity": "HIGH",
    "dsaCategory": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "description": "v1",
}


@pytest.mark.parametrize("role", ["admin", "policy_manager"])
async def test_a_regional_publisher_cannot_define_or_version_a_global_policy(
    db_url: str, gql: GraphQLClient, role: str
) -> None:
    global_admin = await issue_staff_token(db_url, "admin", "*")
    regional = await issue_staff_token(db_url, role, "EU")
    await flows.policy(gql, global_admin, "HATE_SPEECH")
    before = await row_counts(db_url)

    new_version = await gql(flows.DEFINE_POLICY, {"input": {**POLICY, "description": "EU wording"}}, token=regional)
    new_policy = await gql(flows.DEFINE_POLICY, {"input": {**POLICY, "code": "SPAM"}}, token=regional)

    for body in (new_version, new_policy):
        result = body["data"]["definePolicy"]
        assert result["__typename"] == "ForbiddenError", body
        assert "every region" in result["message"]
    after = await row_counts(db_url)
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }


async def test_a_global_publisher_versions_a_policy(db_url: str, gql: GraphQLClient) -> None:
    manager = await issue_staff_token(db_url, "policy_manager", "*")
    await flows.policy(gql, manager, "HATE_SPEECH")
    body = await gql(flows.DEFINE_POLICY, {"input": {**POLICY, "description": "v2"}}, token=manager)
    assert flows.ok(body, "definePolicy", "DefinePolicySuccess")["version"]["number"] == 2
