"""Policies are versioned: a decision cites the version it applied; publishing a new one never rewrites it."""

from __future__ import annotations

import pytest

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

DECISION = (
    "... on Decision { policyVersion { number } policy { currentVersionNumber } strikes { policyVersion { number } } }"
)


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "moderator": await issue_staff_token(db_url, "moderator", "US"),
    }


async def _decided(gql: GraphQLClient, tokens: dict[str, str], creator: str, policy: str, n: int) -> str:
    video = await flows.content(gql, tokens["platform"], creator, f"video-{n}")
    case_id = (await flows.report(gql, tokens["platform"], video, policy))["case"]["id"]
    decided = await flows.decide(gql, tokens["moderator"], case_id, policy, actions=[{"kind": "LABEL"}])
    assert decided["__typename"] == "DecideCaseSuccess", decided
    return str(decided["decision"]["id"])


async def test_a_new_version_does_not_rewrite_earlier_decisions(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    creator = await flows.account(gql, tokens["platform"], "versioned-creator")
    hate = await flows.policy(gql, tokens["admin"], "HATE_SPEECH")
    earlier = await _decided(gql, tokens, creator, hate, 1)

    body = await gql(
        flows.DEFINE_POLICY,
        {
            "input": {
                "code": "HATE_SPEECH",
                "name": "Hate speech",
                "surface": "CONTENT",
                "severity": "SEVERE",
                "dsaCategory": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
                "description": "stricter wording",
            }
        },
        token=tokens["admin"],
    )
    published = flows.ok(body, "definePolicy", "DefinePolicySuccess")
    assert published["policy"] == {"id": hate, "code": "HATE_SPEECH", "currentVersionNumber": 2}
    assert published["version"]["number"] == 2

    assert await flows.node(gql, tokens["moderator"], earlier, DECISION) == {
        "id": earlier,
        "policyVersion": {"number": 1},
        "policy": {"currentVersionNumber": 2},
        "strikes": [{"policyVersion": {"number": 1}}],
    }
    later = await _decided(gql, tokens, creator, hate, 2)
    assert await flows.node(gql, tokens["moderator"], later, DECISION) == {
        "id": later,
        "policyVersion": {"number": 2},
        "policy": {"currentVersionNumber": 2},
        "strikes": [{"policyVersion": {"number": 2}}],
    }
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Policy { versions { number severity } } } }",
        {"id": hate},
        token=tokens["moderator"],
    )
    assert body["data"]["node"]["versions"] == [{"number": 1, "severity": "HIGH"}, {"number": 2, "severity": "SEVERE"}]
