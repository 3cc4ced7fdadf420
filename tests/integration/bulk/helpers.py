"""Cases to decide in bulk, the documents, and a job runner on the test's database (driven chunk by chunk)."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.lifecycle.flows import ERRORS

JOB = "id state verdict total succeeded failed pending finishedAt"
BULK_DECIDE = f"""
mutation($input: BulkDecideCasesInput!) {{ bulkDecideCases(input: $input) {{
  __typename ... on BulkDecideCasesSuccess {{ job {{ {JOB} }} }} {ERRORS} }} }}"""
CANCEL = f"""
mutation($id: ID!) {{ cancelBulkJob(input: {{id: $id}}) {{
  __typename ... on CancelBulkJobSuccess {{ cancelledItems job {{ {JOB} }} }} {ERRORS} }} }}"""
BULK_JOB = f"""
query($id: ID!, $after: String) {{ bulkJob(id: $id) {{ {JOB}
  items(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }}
    nodes {{ position state caseId decisionId error {{ code message field }} }} }} }} }}"""


async def open_cases(gql: GraphQLClient, platform: str, policy_id: str, n: int, *, region: str = "US") -> list[str]:
    """``n`` OPEN cases, each about its own video of its own creator in ``region``."""
    ids = []
    for i in range(n):
        owner = await flows.account(gql, platform, f"bulk-{region}-{i}", region=region)
        video = await flows.content(gql, platform, owner, f"bulk-video-{region}-{i}")
        reported = await flows.report(gql, platform, video, policy_id, key=f"bulk-{region}-{i}")
        ids.append(str(reported["case"]["id"]))
    return ids


async def submit(gql: GraphQLClient, token: str, case_ids: list[str], policy_id: str, **fields: Any) -> dict[str, Any]:
    payload = {"caseIds": case_ids, "verdict": "VIOLATING", "policyId": policy_id, "rationale": "spam wave", **fields}
    body = await gql(BULK_DECIDE, {"input": payload}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["bulkDecideCases"]
    return result


async def job_items(gql: GraphQLClient, token: str, job_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    body = await gql(BULK_JOB, {"id": job_id}, token=token)
    assert "errors" not in body, body
    job = body["data"]["bulkJob"]
    return job, job["items"]["nodes"]
