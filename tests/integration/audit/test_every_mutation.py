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
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.graphql.ids import parse_any, to_global_id
from api.graphql.schema import build_schema
from api.services.backtest_jobs import BacktestRunner
from persistence.db import create_engine, create_session_factory
from persistence.fast.sql import create_pool
from persistence.tables.audit import audit_events
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import NOW, event, fetch
from tests.integration.events.helpers import SUBMIT as SUBMIT_EVENTS
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
from tests.integration.rules.helpers import CREATE as CREATE_RULE
from tests.integration.rules.helpers import TRANSITION as TRANSITION_RULE
from tests.integration.rules.helpers import UPDATE as UPDATE_RULE
from tests.integration.rules.helpers import mutate, rule_text
from tests.integration.rules.test_named_lists import CREATE_LIST, EDIT_LIST
from tests.integration.rules.test_rules_on_events import _refresh_rule_sets
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


CUT_OVER_DOC = f"""
mutation($input: CutOverAutomationRuleInput!) {{ cutOverAutomationRule(input: $input) {{
  __typename ... on CutOverAutomationRuleSuccess {{ automationRule {{ id }} }} {ERRORS} }} }}"""


async def cut_over_automation_rule(w: World) -> Call:
    defined = await define_automation_rule(w)
    body = await w.gql(defined.document, defined.variables, token=w.tokens["admin"])
    automation_rule = flows.ok(body, "defineAutomationRule", "DefineAutomationRuleSuccess")["automationRule"]
    variables = {"input": {"automationRuleId": automation_rule["id"]}}
    return Call(CUT_OVER_DOC, variables, "admin", "AutomationRule", lambda r: r["automationRule"]["id"])


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


# Rules (issue 22): rules, named lists, backtests, the audit sample; platform events feed them.
async def _rule(w: World, source: str | None = None) -> str:
    await flows.policy(w.gql, w.tokens["admin"], "SPAM")
    created = await mutate(w.gql, w.tokens["admin"], CREATE_RULE, {"region": "US", "source": source or rule_text()})
    assert created["__typename"] == "RuleSuccess", created
    return str(created["rule"]["id"])


async def create_rule(w: World) -> Call:
    await flows.policy(w.gql, w.tokens["admin"], "SPAM")
    variables = {"input": {"region": "US", "source": rule_text()}}
    return Call(CREATE_RULE, variables, "admin", "Rule", lambda r: r["rule"]["id"])


async def update_rule(w: World) -> Call:
    variables = {"input": {"ruleId": await _rule(w), "source": rule_text(threshold=5)}}
    return Call(UPDATE_RULE, variables, "admin", "Rule", lambda r: r["rule"]["id"])


async def transition_rule(w: World) -> Call:
    variables = {"input": {"ruleId": await _rule(w), "state": "SHADOW"}}
    return Call(TRANSITION_RULE, variables, "admin", "Rule", lambda r: r["rule"]["id"])


COINS = 'rule "coins"\non content.posted\nin US\npolicy SPAM\nwhen contains(text, "coins")\nthen {then}\n'
LIST_INPUT = {"region": "US", "name": "spam-phrases", "kind": "KEYWORD", "entries": ["free coins"]}


async def create_named_list(w: World) -> Call:
    return Call(CREATE_LIST, {"input": LIST_INPUT}, "admin", "NamedList", lambda r: r["namedList"]["id"])


async def edit_named_list(w: World) -> Call:
    created = await mutate(w.gql, w.tokens["admin"], CREATE_LIST, LIST_INPUT)
    variables = {"input": {"listId": created["namedList"]["id"], "add": ["win big"], "remove": []}}
    return Call(EDIT_LIST, variables, "admin", "NamedList", lambda r: r["namedList"]["id"])


BACKTEST_DOC = f"""mutation($input: BacktestRuleInput!) {{ backtestRule(input: $input) {{
  __typename ... on BacktestRuleSuccess {{ backtest {{ id }} }} {ERRORS} }} }}"""
CANCEL_BACKTEST_DOC = f"""mutation($input: CancelRuleBacktestInput!) {{ cancelRuleBacktest(input: $input) {{
  __typename ... on BacktestRuleSuccess {{ backtest {{ id }} }} {ERRORS} }} }}"""
RETRO_DOC = f"""mutation($input: RetroactRuleInput!) {{ retroactRule(input: $input) {{
  __typename ... on RetroactRuleSuccess {{ job {{ id }} }} {ERRORS} }} }}"""


async def _backtest(w: World, rule_id: str) -> str:
    body = await w.gql(BACKTEST_DOC, {"input": {"ruleId": rule_id}}, token=w.tokens["admin"])
    return str(flows.ok(body, "backtestRule", "BacktestRuleSuccess")["backtest"]["id"])


async def backtest_rule(w: World) -> Call:
    variables = {"input": {"ruleId": await _rule(w)}}
    return Call(BACKTEST_DOC, variables, "admin", "RuleBacktest", lambda r: r["backtest"]["id"])


async def cancel_rule_backtest(w: World) -> Call:
    variables = {"input": {"id": await _backtest(w, await _rule(w))}}  # tests run no job: it waits
    return Call(CANCEL_BACKTEST_DOC, variables, "admin", "RuleBacktest", lambda r: r["backtest"]["id"])


async def retroact_rule(w: World) -> Call:
    """A backtest of a deciding rule over yesterday's post of a known video, run here to completion."""
    owner = await _account(w)
    await flows.content(w.gql, w.tokens["platform"], owner, "video-1")
    post = event("p-1", account="creator-1", text="free coins", at=NOW - timedelta(days=1))
    post["entities"] = [{"kind": "ACCOUNT", "externalId": "creator-1"}, {"kind": "CONTENT", "externalId": "video-1"}]
    assert "errors" not in await w.gql(SUBMIT_EVENTS, {"events": [post]}, token=w.tokens["platform"])
    source = COINS.format(then='decide("REMOVE_CONTENT")')
    backtest = await _backtest(w, await _rule(w, source))
    job = uuid.UUID(str((parse_any(backtest) or ("", ""))[1]))
    pool = await create_pool(w.db_url, size=1)
    try:
        runner = BacktestRunner(pool, pause=0)
        assert await runner.claim(job) is not None
        await runner.run(job)
    finally:
        await pool.close()
    variables = {"input": {"backtestId": backtest, "rationale": "free coins spam"}}
    return Call(RETRO_DOC, variables, "admin", "BulkJob", lambda r: r["job"]["id"])  # the job deciding the cases


REVIEW_HIT_DOC = f"""mutation($input: ReviewRuleHitInput!) {{ reviewRuleHit(input: $input) {{
  __typename ... on ReviewRuleHitSuccess {{ hitId }} {ERRORS} }} }}"""
RATE_DOC = f"""mutation($input: SetRuleAuditRateInput!) {{ setRuleAuditRate(input: $input) {{
  __typename ... on SetRuleAuditRateSuccess {{ ruleId }} {ERRORS} }} }}"""


async def review_rule_hit(w: World) -> Call:
    source = COINS.format(then='label(account, "coins")')
    rule_id = await _rule(w, source)
    await mutate(w.gql, w.tokens["admin"], RATE_DOC, {"ruleId": rule_id, "sampleRate": 1.0})
    await mutate(w.gql, w.tokens["admin"], TRANSITION_RULE, {"ruleId": rule_id, "state": "SHADOW"})
    await _refresh_rule_sets()
    assert "errors" not in await w.gql(
        SUBMIT_EVENTS, {"events": [event("c-1", text="coins")]}, token=w.tokens["platform"]
    )
    queue = await w.gql("query($id: ID) { ruleAuditQueue(ruleId: $id) { nodes { id } } }", {"id": rule_id},
                        token=w.tokens["admin"])  # fmt: skip
    hit = queue["data"]["ruleAuditQueue"]["nodes"][0]["id"]
    return Call(REVIEW_HIT_DOC, {"input": {"hitId": hit, "correct": True}}, "admin", "RuleHit", lambda r: r["hitId"])


async def set_rule_audit_rate(w: World) -> Call:
    variables = {"input": {"ruleId": await _rule(w), "sampleRate": 0.5}}
    return Call(RATE_DOC, variables, "admin", "Rule", lambda r: r["ruleId"])


async def submit_events(w: World) -> Call:
    return Call(SUBMIT_EVENTS.replace("results {", "batchId results {"), {"events": [event("e-1")]}, "platform",
                "PlatformEventBatch", lambda r: r["batchId"])  # fmt: skip


# DSA records: authority orders, out-of-court disputes, monthly active recipients, statements resent.
ORDER_INPUT = {"region": "EU", "kind": "ACT_AGAINST_ILLEGAL_CONTENT", "memberState": "DE", "authority": "BNetzA",
               "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
               "receivedAt": "2026-03-02T00:00:00+00:00"}  # fmt: skip


async def record_authority_order(w: World) -> Call:
    return Call(RECORD_ORDER, {"input": ORDER_INPUT}, "admin", "AuthorityOrder", lambda r: r["order"]["id"])


async def settle_authority_order(w: World) -> Call:
    body = await w.gql(RECORD_ORDER, {"input": ORDER_INPUT}, token=w.tokens["admin"])
    order = flows.ok(body, "recordAuthorityOrder", "AuthorityOrderSuccess")["order"]["id"]
    settle = {"orderId": order, "informedAt": "2026-03-02T02:00:00+00:00", "actedAt": "2026-03-03T00:00:00+00:00"}
    return Call(SETTLE_ORDER_DOC, {"input": settle}, "admin", "AuthorityOrder", lambda r: r["order"]["id"])


async def _eu_decision(w: World) -> str:
    """The global id of a VIOLATING decision removing an EU video (so it owes a statement of reasons)."""
    admin = w.tokens["admin"]
    creator = await flows.account(w.gql, w.tokens["platform"], "creator-eu", region="EU")
    video = await flows.content(w.gql, w.tokens["platform"], creator, "video-eu")
    hate = await flows.policy(w.gql, admin, "HATE_SPEECH")
    case_id = (await flows.report(w.gql, w.tokens["platform"], video, hate, key="k-eu"))["case"]["id"]
    decided = await flows.decide(w.gql, admin, case_id, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    assert decided["__typename"] == "DecideCaseSuccess", decided
    return str(decided["decision"]["id"])


def _dispute_input(decision: str) -> dict[str, Any]:
    """Submitted after the decision (just now), as a dispute must be."""
    submitted = datetime.now(UTC).isoformat()
    return {"input": {"decisionId": decision, "body": "ODS Body", "submittedAt": submitted}}


async def record_out_of_court_dispute(w: World) -> Call:
    variables = _dispute_input(await _eu_decision(w))
    return Call(RECORD_DISPUTE_DOC, variables, "admin", "OutOfCourtDispute", lambda r: r["dispute"]["id"])


async def close_out_of_court_dispute(w: World) -> Call:
    body = await w.gql(RECORD_DISPUTE_DOC, _dispute_input(await _eu_decision(w)), token=w.tokens["admin"])
    dispute = flows.ok(body, "recordOutOfCourtDispute", "OutOfCourtDisputeSuccess")["dispute"]["id"]
    close = {"disputeId": dispute, "outcome": "FOR_PROVIDER", "closedAt": datetime.now(UTC).isoformat(),
             "implemented": False}  # fmt: skip
    return Call(CLOSE_DISPUTE_DOC, {"input": close}, "admin", "OutOfCourtDispute", lambda r: r["dispute"]["id"])


async def record_active_recipients(w: World) -> Call:
    """A correction of a recorded figure, so the subject's id is known before the call (the payload has none)."""
    figure = {"region": "EU", "year": 2026, "month": 3, "memberState": "DE", "recipients": 1000}
    flows.ok(await w.gql(RECIPIENTS_DOC, {"input": figure}, token=w.tokens["admin"]), "recordActiveRecipients",
             "RecordActiveRecipientsSuccess")  # fmt: skip
    (row,) = await fetch(w.db_url, "SELECT id FROM active_recipients")
    subject = to_global_id("ActiveRecipients", row["id"])
    variables = {"input": {**figure, "recipients": 1200}}
    return Call(RECIPIENTS_DOC, variables, "admin", "ActiveRecipients", lambda r: subject)


async def resend_statement_of_reasons(w: World) -> Call:
    """The EU decision's statement, refused by the Transparency Database (set here as its reply would), corrected."""
    decision = await _eu_decision(w)
    (row,) = await fetch(
        w.db_url,
        "UPDATE statements_of_reasons SET submission = 'REJECTED', rejection = ARRAY['decision_facts: no'] "
        "RETURNING id",
    )
    subject = to_global_id("StatementOfReasons", row["id"])
    variables = {"input": {"decisionId": decision, "corrections": {"decisionFacts": "Removed under the policy."}}}
    return Call(RESEND_DOC, variables, "admin", "StatementOfReasons", lambda r: subject)


RECORD_ORDER = f"""mutation($input: RecordAuthorityOrderInput!) {{ recordAuthorityOrder(input: $input) {{
  __typename ... on AuthorityOrderSuccess {{ order {{ id }} }} {ERRORS} }} }}"""
SETTLE_ORDER_DOC = f"""mutation($input: SettleAuthorityOrderInput!) {{ settleAuthorityOrder(input: $input) {{
  __typename ... on AuthorityOrderSuccess {{ order {{ id }} }} {ERRORS} }} }}"""
RECORD_DISPUTE_DOC = f"""mutation($input: RecordOutOfCourtDisputeInput!) {{ recordOutOfCourtDispute(input: $input) {{
  __typename ... on OutOfCourtDisputeSuccess {{ dispute {{ id }} }} {ERRORS} }} }}"""
CLOSE_DISPUTE_DOC = f"""mutation($input: CloseOutOfCourtDisputeInput!) {{ closeOutOfCourtDispute(input: $input) {{
  __typename ... on OutOfCourtDisputeSuccess {{ dispute {{ id }} }} {ERRORS} }} }}"""
RECIPIENTS_DOC = f"""mutation($input: RecordActiveRecipientsInput!) {{ recordActiveRecipients(input: $input) {{
  __typename ... on RecordActiveRecipientsSuccess {{ recipients }} {ERRORS} }} }}"""
RESEND_DOC = f"""mutation($input: ResendStatementInput!) {{ resendStatementOfReasons(input: $input) {{
  __typename ... on ResendStatementSuccess {{ statement {{ puid }} }} {ERRORS} }} }}"""


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
    "cutOverAutomationRule": cut_over_automation_rule,
    "submitSignal": submit_signal,
    "bulkDecideCases": bulk_decide_cases,
    "cancelBulkJob": cancel_bulk_job,
    "registerWebhook": register_webhook,
    "rotateWebhookSecret": rotate_webhook_secret,
    "disableWebhook": disable_webhook,
    "redeliverWebhook": redeliver_webhook,
    "retryWebhookDeliveries": retry_webhook_deliveries,
    "registerTrustedDocuments": register_trusted_documents,
    "createRule": create_rule,
    "updateRule": update_rule,
    "transitionRule": transition_rule,
    "createNamedList": create_named_list,
    "editNamedList": edit_named_list,
    "backtestRule": backtest_rule,
    "cancelRuleBacktest": cancel_rule_backtest,
    "retroactRule": retroact_rule,
    "reviewRuleHit": review_rule_hit,
    "setRuleAuditRate": set_rule_audit_rate,
    "submitEvents": submit_events,
    "recordAuthorityOrder": record_authority_order,
    "settleAuthorityOrder": settle_authority_order,
    "recordOutOfCourtDispute": record_out_of_court_dispute,
    "closeOutOfCourtDispute": close_out_of_court_dispute,
    "recordActiveRecipients": record_active_recipients,
    "resendStatementOfReasons": resend_statement_of_reasons,
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
