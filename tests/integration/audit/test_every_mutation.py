"""Every mutation of the schema, run once on a happy path, leaves an audit event with the right actor and subject.

The test walks the built schema's `Mutation` fields: a mutation without a case in `HAPPY_PATHS` fails, so a new
mutation cannot ship without proving it is audited. Each case sets up what it needs through the API, names the
mutation document, its variables, the token that calls it, and where the subject's global id is in the result.
The events are matched by the request id the test sends, so setup steps' events never count.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.graphql.ids import parse_any
from api.graphql.schema import build_schema
from persistence.db import create_engine, create_session_factory
from persistence.tables.audit import audit_events
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.outbox.helpers import (
    DELIVERIES,
    DISABLE,
    REDELIVER,
    REGISTER,
    RETRY,
    ROTATE,
    dispatcher,
    register,
)
from tests.integration.tokens import issue_partner_token, issue_staff_token


@dataclass
class World:
    gql: GraphQLClient
    db_url: str
    tokens: dict[str, str]


@dataclass(frozen=True)
class Call:
    document: str
    variables: dict[str, Any]
    token: str
    """A key of `World.tokens`: who calls the mutation (the expected actor)."""
    subject_kind: str
    subject: Callable[[dict[str, Any]], str]
    """The subject's global id, read from the mutation's result."""


Happy = Callable[[World], Awaitable[Call]]
ERRORS = flows.ERRORS


async def _account(w: World, external_id: str = "creator-1", kind: str = "CREATOR") -> str:
    return await flows.account(w.gql, w.tokens["platform"], external_id, kind=kind)


async def _reported_case(w: World) -> tuple[str, str, str]:
    """(case id, policy id, creator account id) of an open US case on a video."""
    creator = await _account(w)
    video = await flows.content(w.gql, w.tokens["platform"], creator, "video-1")
    hate = await flows.policy(w.gql, w.tokens["admin"], "HATE_SPEECH")
    reported = await flows.report(w.gql, w.tokens["platform"], video, hate, key="k-1")
    return str(reported["case"]["id"]), hate, creator


async def _decided(w: World) -> tuple[str, str]:
    """(decision id, creator account id): a violating decision by moderator-US."""
    case_id, hate, creator = await _reported_case(w)
    decided = await flows.decide(w.gql, w.tokens["mod_us"], case_id, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    assert decided["__typename"] == "DecideCaseSuccess", decided
    return str(decided["decision"]["id"]), creator


async def _ad(w: World) -> str:
    advertiser = await _account(w, "advertiser-1", "ADVERTISER")
    body = await w.gql(flows.SUBMIT_AD, _ad_input(advertiser), token=w.tokens["platform"])
    return str(flows.ok(body, "submitAd", "SubmitAdSuccess")["ad"]["id"])


def _ad_input(advertiser: str) -> dict[str, Any]:
    return {
        "input": {
            "advertiserAccountId": advertiser,
            "externalId": "ad-1",
            "headline": "Miracle cure",
            "body": "Cures everything",
            "landingUrl": "https://example.com/cure",
            "targetRegions": ["US"],
        }
    }


async def upsert_account(w: World) -> Call:
    variables = {"input": {"region": "US", "externalId": "a-1", "kind": "USER", "handle": "a1", "displayName": "A One"}}
    return Call(flows.UPSERT_ACCOUNT, variables, "platform", "Account", lambda r: r["account"]["id"])


async def upsert_content(w: World) -> Call:
    owner = await _account(w)
    variables = {"input": {"ownerAccountId": owner, "externalId": "v-1", "kind": "VIDEO", "reach": 10}}
    return Call(flows.UPSERT_CONTENT, variables, "platform", "Content", lambda r: r["content"]["id"])


async def submit_ad(w: World) -> Call:
    advertiser = await _account(w, "advertiser-1", "ADVERTISER")
    return Call(flows.SUBMIT_AD, _ad_input(advertiser), "platform", "Ad", lambda r: r["ad"]["id"])


async def submit_report(w: World) -> Call:
    creator = await _account(w)
    video = await flows.content(w.gql, w.tokens["platform"], creator, "video-1")
    hate = await flows.policy(w.gql, w.tokens["admin"], "HATE_SPEECH")
    variables = {"input": {"subjectId": video, "policyId": hate, "source": "USER", "idempotencyKey": "k"}}
    return Call(flows.SUBMIT_REPORT, variables, "platform", "Report", lambda r: r["report"]["id"])


async def submit_reports(w: World) -> Call:
    creator = await _account(w)
    video = await flows.content(w.gql, w.tokens["platform"], creator, "video-1")
    hate = await flows.policy(w.gql, w.tokens["admin"], "HATE_SPEECH")
    items = [{"subjectId": video, "policyId": hate, "source": "USER", "idempotencyKey": f"k-{i}"} for i in range(2)]
    return Call(
        flows.SUBMIT_REPORTS,
        {"input": {"reports": items}},
        "platform",
        "Report",
        lambda r: r["results"][0]["report"]["id"],
    )


async def define_policy(w: World) -> Call:
    variables = {
        "input": {
            "code": "SPAM",
            "name": "Spam",
            "surface": "CONTENT",
            "severity": "LOW",
            "dsaCategory": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            "description": "spam policy",
        }
    }
    return Call(flows.DEFINE_POLICY, variables, "admin", "Policy", lambda r: r["policy"]["id"])


async def decide_case(w: World) -> Call:
    case_id, hate, _ = await _reported_case(w)
    variables = {
        "input": {"caseId": case_id, "verdict": "VIOLATING", "policyId": hate, "rationale": "hateful", "actions": []}
    }
    return Call(flows.DECIDE_CASE, variables, "mod_us", "Case", lambda r: r["case"]["id"])


async def escalate_case(w: World) -> Call:
    case_id, _, _ = await _reported_case(w)
    variables = {"input": {"caseId": case_id, "reason": "needs policy input"}}
    return Call(flows.ESCALATE_CASE, variables, "mod_us", "Case", lambda r: r["case"]["id"])


BULK_DECIDE = f"""
mutation($input: BulkDecideCasesInput!) {{ bulkDecideCases(input: $input) {{
  __typename ... on BulkDecideCasesSuccess {{ job {{ id }} }} {ERRORS} }} }}"""
CANCEL_BULK_JOB = f"""
mutation($input: CancelBulkJobInput!) {{ cancelBulkJob(input: $input) {{
  __typename ... on CancelBulkJobSuccess {{ job {{ id state }} }} {ERRORS} }} }}"""


async def _bulk_input(w: World) -> dict[str, Any]:
    case_id, hate, _ = await _reported_case(w)
    return {"input": {"caseIds": [case_id], "verdict": "VIOLATING", "policyId": hate, "rationale": "spam wave"}}


async def bulk_decide_cases(w: World) -> Call:
    return Call(BULK_DECIDE, await _bulk_input(w), "mod_us", "BulkJob", lambda r: r["job"]["id"])


async def cancel_bulk_job(w: World) -> Call:
    body = await w.gql(BULK_DECIDE, await _bulk_input(w), token=w.tokens["mod_us"])
    job = flows.ok(body, "bulkDecideCases", "BulkDecideCasesSuccess")["job"]["id"]  # tests run no job: it waits
    return Call(CANCEL_BULK_JOB, {"input": {"id": job}}, "mod_us", "BulkJob", lambda r: r["job"]["id"])


async def review_ad(w: World) -> Call:
    ad = await _ad(w)
    variables = {"input": {"adId": ad, "outcome": "APPROVE", "rationale": "fine"}}
    return Call(flows.REVIEW_AD, variables, "mod_us", "Ad", lambda r: r["ad"]["id"])


async def file_appeal(w: World) -> Call:
    decision, creator = await _decided(w)
    variables = {"input": {"decisionId": decision, "appellantAccountId": creator, "statement": "not hateful"}}
    return Call(flows.FILE_APPEAL, variables, "platform", "Appeal", lambda r: r["appeal"]["id"])


async def decide_appeal(w: World) -> Call:
    decision, creator = await _decided(w)
    body = await w.gql(
        flows.FILE_APPEAL,
        {"input": {"decisionId": decision, "appellantAccountId": creator, "statement": "not hateful"}},
        token=w.tokens["platform"],
    )
    appeal = flows.ok(body, "fileAppeal", "FileAppealSuccess")["appeal"]["id"]
    variables = {"input": {"appealId": appeal, "outcome": "OVERTURNED", "rationale": "satire"}}
    return Call(flows.DECIDE_APPEAL, variables, "senior_us", "Appeal", lambda r: r["appeal"]["id"])


ISSUE = f"""mutation($input: IssueApiTokenInput!) {{ issueApiToken(input: $input) {{
  __typename ... on IssueApiTokenSuccess {{ token {{ id }} }} {ERRORS} }} }}"""
REVOKE = f"""mutation($input: RevokeApiTokenInput!) {{ revokeApiToken(input: $input) {{
  __typename ... on RevokeApiTokenSuccess {{ token {{ id }} }} {ERRORS} }} }}"""
ISSUE_INPUT = {"input": {"partnerOrg": "acme", "scopes": ["trusted_flagger"], "region": "EU", "name": "acme EU"}}


async def issue_api_token(w: World) -> Call:
    return Call(ISSUE, ISSUE_INPUT, "admin", "ApiToken", lambda r: r["token"]["id"])


STAFF_DOC = f"""mutation($input: IssueStaffTokenInput!) {{ issueStaffToken(input: $input) {{
  __typename ... on IssueApiTokenSuccess {{ token {{ id }} }} {ERRORS} }} }}"""


async def issue_staff_token_(w: World) -> Call:
    staff = {"name": "vendor-mod-1", "role": "vendor_moderator", "region": "US", "vendorOrg": "vendor-x"}
    return Call(STAFF_DOC, {"input": staff}, "admin", "ApiToken", lambda r: r["token"]["id"])


LADDER_DOC = f"""mutation($input: DefineStrikeLadderInput!) {{ defineStrikeLadder(input: $input) {{
  __typename ... on DefineStrikeLadderSuccess {{ strikeLadder {{ id }} }} {ERRORS} }} }}"""


async def define_strike_ladder(w: World) -> Call:
    ladder = {"region": "US", "surface": "ADS", "steps": [{"threshold": 1, "action": "WARN"}]}
    return Call(LADDER_DOC, {"input": ladder}, "admin", "StrikeLadder", lambda r: r["strikeLadder"]["id"])


async def revoke_api_token(w: World) -> Call:
    body = await w.gql(ISSUE, ISSUE_INPUT, token=w.tokens["admin"])
    token_id = flows.ok(body, "issueApiToken", "IssueApiTokenSuccess")["token"]["id"]
    return Call(REVOKE, {"input": {"id": token_id}}, "admin", "ApiToken", lambda r: r["token"]["id"])


QUEUE_DOC = f"""
mutation($input: DefineQueueInput!) {{ defineQueue(input: $input) {{
  __typename ... on DefineQueueSuccess {{ queue {{ id }} }} {ERRORS} }} }}"""
CLAIM_NEXT_DOC = f"""
mutation($input: ClaimNextCaseInput!) {{ claimNextCase(input: $input) {{
  __typename ... on ClaimNextCaseSuccess {{ case {{ id }} }} {ERRORS} }} }}"""
RELEASE_DOC = f"""
mutation($input: ReleaseCaseInput!) {{ releaseCase(input: $input) {{
  __typename ... on ReleaseCaseSuccess {{ case {{ id }} }} {ERRORS} }} }}"""
QA_DOC = f"""
mutation($input: SubmitQaReviewInput!) {{ submitQaReview(input: $input) {{
  __typename ... on SubmitQaReviewSuccess {{ qaReview {{ id }} }} {ERRORS} }} }}"""


def _queue_input(name: str = "us-content") -> dict[str, Any]:
    return {"input": {"region": "US", "name": name, "surface": "CONTENT", "roles": ["moderator"], "isDefault": True,
                      "qaSampleRate": 1.0}}  # fmt: skip


async def _queued_case(w: World) -> tuple[str, str]:
    """(queue id, case id): an open US case routed into the default content queue."""
    body = await w.gql(QUEUE_DOC, _queue_input(), token=w.tokens["admin"])
    queue_id = str(flows.ok(body, "defineQueue", "DefineQueueSuccess")["queue"]["id"])
    case_id, _, _ = await _reported_case(w)
    return queue_id, case_id


async def define_queue(w: World) -> Call:
    return Call(QUEUE_DOC, _queue_input(), "admin", "Queue", lambda r: r["queue"]["id"])


REROUTE_DOC = f"""
mutation($input: RerouteCasesInput!) {{ rerouteCases(input: $input) {{
  __typename ... on RerouteCasesSuccess {{ cases {{ id }} }} {ERRORS} }} }}"""


async def reroute_cases(w: World) -> Call:
    await _reported_case(w)  # opened while no queue exists: it waits unqueued
    flows.ok(await w.gql(QUEUE_DOC, _queue_input(), token=w.tokens["admin"]), "defineQueue", "DefineQueueSuccess")
    return Call(REROUTE_DOC, {"input": {"region": "US"}}, "admin", "Case", lambda r: r["cases"][0]["id"])


async def claim_next_case(w: World) -> Call:
    queue_id, _ = await _queued_case(w)
    return Call(CLAIM_NEXT_DOC, {"input": {"queueId": queue_id}}, "mod_us", "Case", lambda r: r["case"]["id"])


async def release_case(w: World) -> Call:
    queue_id, case_id = await _queued_case(w)
    claimed = await w.gql(CLAIM_NEXT_DOC, {"input": {"queueId": queue_id}}, token=w.tokens["mod_us"])
    assert flows.ok(claimed, "claimNextCase", "ClaimNextCaseSuccess")["case"]["id"] == case_id
    return Call(RELEASE_DOC, {"input": {"caseId": case_id}}, "mod_us", "Case", lambda r: r["case"]["id"])


CLAIM_NEXT_APPEAL_DOC = f"""
mutation($input: ClaimNextAppealInput!) {{ claimNextAppeal(input: $input) {{
  __typename ... on ClaimNextAppealSuccess {{ appeal {{ id }} }} {ERRORS} }} }}"""
RELEASE_APPEAL_DOC = f"""
mutation($input: ReleaseAppealInput!) {{ releaseAppeal(input: $input) {{
  __typename ... on ReleaseAppealSuccess {{ appeal {{ id }} }} {ERRORS} }} }}"""


async def _queued_appeal(w: World) -> tuple[str, str]:
    """(queue id, appeal id): a PENDING US appeal routed into the default appeals queue."""
    queue = {**_queue_input("us-appeals")["input"], "surface": "APPEALS", "roles": ["senior_moderator"]}
    body = await w.gql(QUEUE_DOC, {"input": queue}, token=w.tokens["admin"])
    queue_id = str(flows.ok(body, "defineQueue", "DefineQueueSuccess")["queue"]["id"])
    decision, creator = await _decided(w)
    filed = await flows.file_appeal(w.gql, w.tokens["platform"], decision, creator)
    assert filed["__typename"] == "FileAppealSuccess", filed
    return queue_id, str(filed["appeal"]["id"])


async def claim_next_appeal(w: World) -> Call:
    queue_id, _ = await _queued_appeal(w)
    variables = {"input": {"queueId": queue_id}}
    return Call(CLAIM_NEXT_APPEAL_DOC, variables, "senior_us", "Appeal", lambda r: r["appeal"]["id"])


async def release_appeal(w: World) -> Call:
    queue_id, appeal_id = await _queued_appeal(w)
    claimed = await w.gql(CLAIM_NEXT_APPEAL_DOC, {"input": {"queueId": queue_id}}, token=w.tokens["senior_us"])
    assert flows.ok(claimed, "claimNextAppeal", "ClaimNextAppealSuccess")["appeal"]["id"] == appeal_id
    variables = {"input": {"appealId": appeal_id}}
    return Call(RELEASE_APPEAL_DOC, variables, "senior_us", "Appeal", lambda r: r["appeal"]["id"])


async def submit_qa_review(w: World) -> Call:
    await w.gql(QUEUE_DOC, _queue_input(), token=w.tokens["admin"])
    decision_id, _ = await _decided(w)
    case = await w.gql("query($id: ID!) { node(id: $id) { ... on Decision { case { id } } } }", {"id": decision_id},
                       token=w.tokens["admin"])  # fmt: skip
    variables = {"input": {"caseId": case["data"]["node"]["case"]["id"], "agrees": True}}
    return Call(QA_DOC, variables, "admin", "QaReview", lambda r: r["qaReview"]["id"])


RULE_DOC = f"""
mutation($input: DefineAutomationRuleInput!) {{ defineAutomationRule(input: $input) {{
  __typename ... on DefineAutomationRuleSuccess {{ automationRule {{ id }} }} {ERRORS} }} }}"""
SIGNAL_DOC = f"""
mutation($input: SubmitSignalInput!) {{ submitSignal(input: $input) {{
  __typename ... on SubmitSignalSuccess {{ outcomes {{ outcome case {{ id }} }} }} {ERRORS} }} }}"""


def _rule_input(policy_id: str) -> dict[str, Any]:
    return {"input": {"region": "US", "policyId": policy_id, "classifier": "hate-v3", "enqueueThreshold": 0.6,
                      "decideThreshold": 0.9, "actions": [{"kind": "REMOVE_CONTENT"}]}}  # fmt: skip


async def define_automation_rule(w: World) -> Call:
    hate = await flows.policy(w.gql, w.tokens["admin"], "HATE_SPEECH")
    return Call(RULE_DOC, _rule_input(hate), "admin", "AutomationRule", lambda r: r["automationRule"]["id"])


async def submit_signal(w: World) -> Call:
    creator = await _account(w)
    video = await flows.content(w.gql, w.tokens["platform"], creator, "video-1")
    hate = await flows.policy(w.gql, w.tokens["admin"], "HATE_SPEECH")
    body = await w.gql(RULE_DOC, _rule_input(hate), token=w.tokens["admin"])
    flows.ok(body, "defineAutomationRule", "DefineAutomationRuleSuccess")
    scores = [{"policyId": hate, "score": 0.99}]
    variables = {"input": {"subjectId": video, "classifier": "hate-v3", "scores": scores, "idempotencyKey": "s-1"}}
    return Call(SIGNAL_DOC, variables, "platform", "Case", lambda r: r["outcomes"][0]["case"]["id"])


async def _webhook(w: World) -> dict[str, Any]:
    hook = await register(w.gql, w.tokens["admin"], "http://127.0.0.1:9/hook", ["decision.made"])
    assert hook["__typename"] == "RegisterWebhookSuccess", hook
    return hook


async def register_webhook(w: World) -> Call:
    variables = {"input": {"url": "http://127.0.0.1:9/hook", "eventTypes": ["decision.made"], "regions": ["US"]}}
    return Call(REGISTER, variables, "admin", "Webhook", lambda r: r["webhook"]["id"])


async def rotate_webhook_secret(w: World) -> Call:
    variables = {"input": {"webhookId": (await _webhook(w))["webhook"]["id"]}}
    return Call(ROTATE, variables, "admin", "Webhook", lambda r: r["webhook"]["id"])


async def disable_webhook(w: World) -> Call:
    variables = {"input": {"webhookId": (await _webhook(w))["webhook"]["id"]}}
    return Call(DISABLE, variables, "admin", "Webhook", lambda r: r["webhook"]["id"])


async def redeliver_webhook(w: World) -> Call:
    await _webhook(w)
    await _decided(w)
    async with dispatcher(w.db_url) as d:
        await d.run_once()  # nobody listens on port 9: the first try fails
    history = await w.gql(DELIVERIES, token=w.tokens["admin"])
    delivery = history["data"]["webhooks"]["nodes"][0]["deliveries"]["nodes"][0]
    return Call(REDELIVER, {"input": {"deliveryId": delivery["id"]}}, "admin", "WebhookDelivery",
                lambda r: r["delivery"]["id"])  # fmt: skip


async def retry_webhook_deliveries(w: World) -> Call:
    variables = {"input": {"webhookId": (await _webhook(w))["webhook"]["id"]}}
    return Call(RETRY, variables, "admin", "Webhook", lambda r: r["webhook"]["id"])


REGISTER_DOCUMENTS = """mutation($input: RegisterTrustedDocumentsInput!) { registerTrustedDocuments(input: $input) {
  __typename ... on RegisterTrustedDocumentsSuccess { documents { id } } ... on Error { code message } } }"""


async def register_trusted_documents(w: World) -> Call:
    text = f"query Audited{uuid.uuid4().hex[:8]} {{ viewer {{ id }} }}"
    return Call(REGISTER_DOCUMENTS, {"input": {"documents": [{"text": text}]}}, "admin", "TrustedDocument",
                lambda r: r["documents"][0]["id"])  # fmt: skip


HAPPY_PATHS: dict[str, Happy] = {
    "defineQueue": define_queue,
    "rerouteCases": reroute_cases,
    "claimNextCase": claim_next_case,
    "releaseCase": release_case,
    "submitQaReview": submit_qa_review,
    "claimNextAppeal": claim_next_appeal,
    "releaseAppeal": release_appeal,
    "upsertAccount": upsert_account,
    "upsertContent": upsert_content,
    "submitAd": submit_ad,
    "submitReport": submit_report,
    "submitReports": submit_reports,
    "definePolicy": define_policy,
    "decideCase": decide_case,
    "escalateCase": escalate_case,
    "reviewAd": review_ad,
    "fileAppeal": file_appeal,
    "decideAppeal": decide_appeal,
    "issueApiToken": issue_api_token,
    "revokeApiToken": revoke_api_token,
    "issueStaffToken": issue_staff_token_,
    "defineStrikeLadder": define_strike_ladder,
    "defineAutomationRule": define_automation_rule,
    "submitSignal": submit_signal,
    "bulkDecideCases": bulk_decide_cases,
    "cancelBulkJob": cancel_bulk_job,
    "registerWebhook": register_webhook,
    "rotateWebhookSecret": rotate_webhook_secret,
    "disableWebhook": disable_webhook,
    "redeliverWebhook": redeliver_webhook,
    "retryWebhookDeliveries": retry_webhook_deliveries,
    "registerTrustedDocuments": register_trusted_documents,
}


def schema_mutations() -> list[str]:
    mutation = build_schema()._schema.mutation_type
    return sorted(mutation.fields) if mutation is not None else []


MUTATIONS = schema_mutations()


def test_the_schema_has_mutations_and_the_table_names_only_real_ones() -> None:
    assert MUTATIONS
    assert sorted(set(HAPPY_PATHS) - set(MUTATIONS)) == []


@pytest.fixture
async def world(db_url: str, gql: GraphQLClient) -> World:
    tokens = {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "mod_us": await issue_staff_token(db_url, "moderator", "US"),
        "senior_us": await issue_staff_token(db_url, "senior_moderator", "US"),
    }
    return World(gql=gql, db_url=db_url, tokens=tokens)


async def _events_of_request(db_url: str, request_id: str) -> list[dict[str, Any]]:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            rows = await session.execute(sa.select(audit_events).where(audit_events.c.request_id == request_id))
            return [dict(r._mapping) for r in rows]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_mutation_leaves_an_audit_event(mutation: str, world: World, http: httpx.AsyncClient) -> None:
    assert mutation in HAPPY_PATHS, f"add a happy path for `{mutation}` to HAPPY_PATHS in {__name__}"
    call = await HAPPY_PATHS[mutation](world)
    token = world.tokens[call.token]
    viewer = await world.gql("{ viewer { id } }", token=token)
    actor_id = viewer["data"]["viewer"]["id"]

    request_id = f"audit-{mutation}-{uuid.uuid4().hex[:8]}"
    response = await http.post(
        "/graphql",
        json={"query": call.document, "variables": call.variables},
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": request_id},
    )
    body = response.json()
    assert "errors" not in body, body
    result = body["data"][mutation]
    assert result["__typename"].endswith("Success"), result
    parsed = parse_any(call.subject(result))
    assert parsed is not None
    assert parsed[0] == call.subject_kind

    events = await _events_of_request(world.db_url, request_id)
    assert events, f"{mutation} wrote no audit event"
    assert {e["actor_id"] for e in events} == {actor_id}
    matching = [e for e in events if (e["subject_kind"], e["subject_id"]) == parsed]
    assert matching, f"{mutation}: no event on {parsed}; got {[(e['subject_kind'], e['subject_id']) for e in events]}"
