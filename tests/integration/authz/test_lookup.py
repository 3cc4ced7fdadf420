"""How a reporter finds what to report (issue 14, point 8): `subjectId` from the platform's own id, `policyId` from
the policy code; the ID only, in the regions where the caller may report."""

from __future__ import annotations

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

LOOKUP = """query($region: Region!, $ext: String!) {
  subjectId(region: $region, kind: CONTENT, externalId: $ext) policyId(code: "LOOKUP_POLICY") }"""


async def test_a_flagger_finds_ids_in_its_region_only(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    eu_owner = await flows.account(gql, admin, "eu-owner", region="EU")
    eu_video = await flows.content(gql, admin, eu_owner, "clip-42")
    us_owner = await flows.account(gql, admin, "us-owner", region="US")
    await flows.content(gql, admin, us_owner, "clip-42-us")
    policy = await flows.policy(gql, admin, "LOOKUP_POLICY")
    flagger = await issue_partner_token(db_url, "flagger-eu", ["trusted_flagger"], "EU")

    found = await gql(LOOKUP, {"region": "EU", "ext": "clip-42"}, token=flagger)
    unknown = await gql(LOOKUP, {"region": "EU", "ext": "no-such-clip"}, token=flagger)
    elsewhere = await gql(LOOKUP, {"region": "US", "ext": "clip-42-us"}, token=flagger)

    assert found == {"data": {"subjectId": eu_video, "policyId": policy}}
    assert unknown == {"data": {"subjectId": None, "policyId": policy}}
    assert elsewhere["data"] == {"subjectId": None, "policyId": policy}  # the refusal nulls that field alone
    assert [(e["extensions"]["code"], e["path"]) for e in elsewhere["errors"]] == [("FORBIDDEN", ["subjectId"])]


async def test_staff_without_reports_create_are_refused(db_url: str, gql: GraphQLClient) -> None:
    analyst = await issue_staff_token(db_url, "analyst", "US")

    body = await gql(LOOKUP, {"region": "US", "ext": "x"}, token=analyst)

    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
