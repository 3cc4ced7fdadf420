"""GraphQL documents and small steps shared by the lifecycle tests (each step asserts its own success)."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import GraphQLClient

ERRORS = "... on Error { code message field }"

UPSERT_ACCOUNT = f"""
mutation($input: UpsertAccountInput!) {{ upsertAccount(input: $input) {{
  __typename ... on UpsertAccountSuccess {{ account {{ id region status email }} }} {ERRORS} }} }}"""

UPSERT_CONTENT = f"""
mutation($input: UpsertContentInput!) {{ upsertContent(input: $input) {{
  __typename ... on UpsertContentSuccess {{ content {{ id region visibility }} }} {ERRORS} }} }}"""

DEFINE_POLICY = f"""
mutation($input: DefinePolicyInput!) {{ definePolicy(input: $input) {{
  __typename ... on DefinePolicySuccess {{
    policy {{ id code currentVersionNumber }} version {{ id number }} }} {ERRORS} }} }}"""

SUBMIT_REPORT = f"""
mutation($input: SubmitReportInput!) {{ submitReport(input: $input) {{
  __typename ... on SubmitReportSuccess {{ report {{ id }} case {{ id state reportCount priority }} }} {ERRORS} }} }}"""

SUBMIT_REPORTS = f"""
mutation($input: SubmitReportsInput!) {{ submitReports(input: $input) {{
  __typename ... on SubmitReportsSuccess {{ results {{ __typename
    ... on SubmitReportSuccess {{ report {{ id }} case {{ id reportCount }} }} {ERRORS} }} }} {ERRORS} }} }}"""

DECIDE_CASE = f"""
mutation($input: DecideCaseInput!) {{ decideCase(input: $input) {{
  __typename ... on DecideCaseSuccess {{
    decision {{ id verdict policyVersion {{ number }} }} case {{ id state }}
    actions {{ kind source inForce }} strikes {{ id status weight }} }} {ERRORS} }} }}"""

ESCALATE_CASE = f"""
mutation($input: EscalateCaseInput!) {{ escalateCase(input: $input) {{
  __typename ... on EscalateCaseSuccess {{ case {{ id state escalationReason }} }} {ERRORS} }} }}"""

SUBMIT_AD = f"""
mutation($input: SubmitAdInput!) {{ submitAd(input: $input) {{
  __typename ... on SubmitAdSuccess {{ ad {{ id reviewStatus serving }} case {{ id surface state }} }} {ERRORS} }} }}"""

REVIEW_AD = f"""
mutation($input: ReviewAdInput!) {{ reviewAd(input: $input) {{
  __typename ... on ReviewAdSuccess {{ ad {{ id reviewStatus serving }} decision {{ id verdict }}
    strikes {{ id }} actions {{ kind }} }} {ERRORS} }} }}"""

FILE_APPEAL = f"""
mutation($input: FileAppealInput!) {{ fileAppeal(input: $input) {{
  __typename ... on FileAppealSuccess {{ appeal {{ id state }} }} {ERRORS} }} }}"""

DECIDE_APPEAL = f"""
mutation($input: DecideAppealInput!) {{ decideAppeal(input: $input) {{
  __typename ... on DecideAppealSuccess {{ appeal {{ id state }} reversedStrikes {{ id status }}
    reversedActions {{ kind }} restoredActions {{ kind }} }} {ERRORS} }} }}"""


def ok(body: dict[str, Any], field: str, success: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    assert result["__typename"] == success, result
    return result


async def account(
    gql: GraphQLClient,
    token: str,
    external_id: str,
    *,
    region: str = "US",
    kind: str = "CREATOR",
    email: str | None = None,
) -> str:
    body = await gql(
        UPSERT_ACCOUNT,
        {
            "input": {
                "region": region,
                "externalId": external_id,
                "kind": kind,
                "handle": external_id,
                "displayName": external_id,
                "email": email,
            }
        },
        token=token,
    )
    return str(ok(body, "upsertAccount", "UpsertAccountSuccess")["account"]["id"])


async def content(gql: GraphQLClient, token: str, owner_id: str, external_id: str, reach: int = 1000) -> str:
    body = await gql(
        UPSERT_CONTENT,
        {
            "input": {
                "ownerAccountId": owner_id,
                "externalId": external_id,
                "kind": "VIDEO",
                "title": "a video",
                "reach": reach,
            }
        },
        token=token,
    )
    return str(ok(body, "upsertContent", "UpsertContentSuccess")["content"]["id"])


async def policy(gql: GraphQLClient, token: str, code: str, *, surface: str = "CONTENT", severity: str = "HIGH") -> str:
    body = await gql(
        DEFINE_POLICY,
        {
            "input": {
                "code": code,
                "name": code.title(),
                "surface": surface,
                "severity": severity,
                "dsaCategory": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
                "description": f"{code} policy",
            }
        },
        token=token,
    )
    return str(ok(body, "definePolicy", "DefinePolicySuccess")["policy"]["id"])


async def report(
    gql: GraphQLClient, token: str, subject_id: str, policy_id: str, *, key: str | None = None, source: str = "USER"
) -> dict[str, Any]:
    body = await gql(
        SUBMIT_REPORT,
        {
            "input": {
                "subjectId": subject_id,
                "policyId": policy_id,
                "source": source,
                "text": "reported",
                "idempotencyKey": key,
            }
        },
        token=token,
    )
    return ok(body, "submitReport", "SubmitReportSuccess")


async def decide(
    gql: GraphQLClient,
    token: str,
    case_id: str,
    policy_id: str,
    *,
    verdict: str = "VIOLATING",
    actions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body = await gql(
        DECIDE_CASE,
        {
            "input": {
                "caseId": case_id,
                "verdict": verdict,
                "policyId": policy_id,
                "rationale": "as reviewed",
                "actions": actions or [],
            }
        },
        token=token,
    )
    result: dict[str, Any] = body["data"]["decideCase"]
    return result


async def ad(gql: GraphQLClient, token: str, advertiser_id: str, external_id: str) -> dict[str, Any]:
    body = await gql(
        SUBMIT_AD,
        {
            "input": {
                "advertiserAccountId": advertiser_id,
                "externalId": external_id,
                "headline": "Miracle cure",
                "body": "Cures everything in 3 days",
                "landingUrl": "https://cure.example.com",
                "targetRegions": ["US"],
            }
        },
        token=token,
    )
    return ok(body, "submitAd", "SubmitAdSuccess")


async def review_ad(
    gql: GraphQLClient, token: str, ad_id: str, outcome: str = "REJECT", policy_id: str | None = None
) -> dict[str, Any]:
    body = await gql(
        REVIEW_AD,
        {"input": {"adId": ad_id, "outcome": outcome, "policyId": policy_id, "rationale": "as reviewed"}},
        token=token,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["reviewAd"]
    return result


async def file_appeal(gql: GraphQLClient, token: str, decision_id: str, appellant_id: str) -> dict[str, Any]:
    body = await gql(
        FILE_APPEAL,
        {"input": {"decisionId": decision_id, "appellantAccountId": appellant_id, "statement": "this was a mistake"}},
        token=token,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["fileAppeal"]
    return result


async def decide_appeal(gql: GraphQLClient, token: str, appeal_id: str, outcome: str) -> dict[str, Any]:
    body = await gql(
        DECIDE_APPEAL,
        {"input": {"appealId": appeal_id, "outcome": outcome, "rationale": "on second look"}},
        token=token,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["decideAppeal"]
    return result


async def node(gql: GraphQLClient, token: str, node_id: str, selection: str) -> dict[str, Any] | None:
    """`node(id)` with `selection` (e.g. `... on Account { status }`); None when invisible."""
    body = await gql(f"query($id: ID!) {{ node(id: $id) {{ id {selection} }} }}", {"id": node_id}, token=token)
    assert "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["node"]
    return found


def error_code(body: dict[str, Any]) -> str:
    """The `extensions.code` of a request-level error (the only one)."""
    errors = body.get("errors") or []
    assert len(errors) == 1, body
    return str(errors[0]["extensions"]["code"])
