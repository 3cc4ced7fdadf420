"""Staff principals carry their vendor organisation (`vigil token issue --vendor`, `issueStaffToken`), and the
QA-per-vendor metric counts their decisions under it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.authz.test_cli_tokens import vigil
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import fetch
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import METRICS, SUBMIT_QA, define_queue
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts

ISSUE_STAFF = f"""
mutation($input: IssueStaffTokenInput!) {{ issueStaffToken(input: $input) {{
  __typename ... on IssueApiTokenSuccess {{ secret token {{ name principal {{ name kind partnerOrg }} }} }}
  {flows.ERRORS} }} }}"""


async def test_decisions_of_vendor_staff_count_under_their_vendor(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    qa = await issue_staff_token(db_url, "qa_reviewer", "US")
    analyst = await issue_staff_token(db_url, "analyst", "US")
    code, out, err = await vigil(
        db_url, "token", "issue", "--role", "vendor_moderator", "--region", "US", "--vendor", "outsourcing-co"
    )
    assert code == 0, err
    by_cli = out.splitlines()[-1]
    body = await gql(
        ISSUE_STAFF,
        {"input": {"name": "vendor-b-1", "role": "vendor_moderator", "region": "US", "vendorOrg": "vendor-b"}},
        token=admin,
    )
    issued = flows.ok(body, "issueStaffToken", "IssueApiTokenSuccess")
    assert issued["token"]["principal"] == {"name": "vendor-b-1", "kind": "STAFF", "partnerOrg": "vendor-b"}
    by_graphql = issued["secret"]
    await define_queue(gql, admin, "us-vendor-content", isDefault=True, qaSampleRate=1.0)
    start = datetime.now(UTC) - timedelta(minutes=1)
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    owner = await flows.account(gql, platform, "vendor-attribution")
    for n, decider in enumerate((by_cli, by_graphql, admin)):
        video = await flows.content(gql, platform, owner, f"vendor-video-{n}")
        case_id = (await flows.report(gql, platform, video, hate))["case"]["id"]
        decided = await flows.decide(gql, decider, case_id, hate, verdict="NOT_VIOLATING")
        assert decided["__typename"] == "DecideCaseSuccess", decided
        reviewed = await gql(SUBMIT_QA, {"input": {"caseId": case_id, "agrees": True}}, token=qa)
        assert reviewed["data"]["submitQaReview"]["__typename"] == "SubmitQaReviewSuccess", reviewed

    window = {"region": "US", "from": start.isoformat(), "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}
    metrics = (await gql(METRICS, window, token=analyst))["data"]["moderationMetrics"]
    by_vendor = {r["key"]: r["reviews"] for r in metrics["qaAgreementByVendor"]}
    assert by_vendor == {"outsourcing-co": 1, "vendor-b": 1, "in-house": 1}


async def test_a_staff_token_never_grants_more_than_its_issuer(db_url: str, gql: GraphQLClient) -> None:
    admin_us = await issue_staff_token(db_url, "admin", "US")
    before = await row_counts(db_url)
    payload = {"name": "too-much", "role": "admin", "region": "*", "vendorOrg": "x"}
    refused = (await gql(ISSUE_STAFF, {"input": payload}, token=admin_us))["data"]["issueStaffToken"]
    assert (refused["__typename"], refused["field"]) == ("ForbiddenError", "role")
    after = await row_counts(db_url)
    assert {**after, "audit_events": before["audit_events"]} == before  # nothing written but the refusal's event
    issuer = (await gql("{ viewer { id } }", token=admin_us))["data"]["viewer"]["id"]
    events = await fetch(db_url, "SELECT action, actor_id, subject_id FROM audit_events ORDER BY seq OFFSET $1",
                         before["audit_events"])  # fmt: skip
    assert [tuple(e) for e in events] == [("security.forbidden", issuer, "issueStaffToken")]  # refusals are audited
    moderator = await issue_staff_token(db_url, "moderator", "US")
    denied = await gql(ISSUE_STAFF, {"input": {**payload, "region": "US"}}, token=moderator)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # tokens:issue
