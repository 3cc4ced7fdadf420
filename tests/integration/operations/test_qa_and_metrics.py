"""QA reviews through the API and the ops lead's metrics, computed in SQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from domain.qa import sample_bucket
from persistence.db import create_engine, create_session_factory
from persistence.operations import sample_bucket_sql
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import METRICS, SUBMIT_QA, define_queue
from tests.integration.tokens import issue_partner_token, issue_staff_token


async def test_sql_sampling_matches_the_domain_rule(db_url: str) -> None:
    ids = [uuid.uuid4() for _ in range(50)]
    engine = create_engine(db_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            values = sa.values(sa.column("id", sa.Uuid), name="ids").data([(i,) for i in ids])
            rows = (await session.execute(sa.select(values.c.id, sample_bucket_sql(values.c.id)))).all()
    finally:
        await engine.dispose()
    assert {i: int(b) for i, b in rows} == {i: sample_bucket(i) for i in ids}


async def _qa(gql: GraphQLClient, token: str, case_id: str, **fields: Any) -> dict[str, Any]:
    body = await gql(SUBMIT_QA, {"input": {"caseId": case_id, **fields}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["submitQaReview"]
    return result


async def test_qa_reviews_and_metrics(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    mod = await issue_staff_token(db_url, "moderator", "US")
    senior = await issue_staff_token(db_url, "senior_moderator", "US")
    vendor = await issue_partner_token(db_url, "acme", ["vendor_tooling"], "US")
    qa = await issue_staff_token(db_url, "qa_reviewer", "US")
    analyst = await issue_staff_token(db_url, "analyst", "US")
    escalations = await define_queue(gql, admin, "us-escalations", roles=["senior_moderator"])
    queue = await define_queue(gql, admin, "us-content", isDefault=True, qaSampleRate=1.0,
                               escalationQueueId=escalations["id"])  # fmt: skip
    start = datetime.now(UTC) - timedelta(minutes=1)
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    owner = await flows.account(gql, platform, "creator-1")
    # The vendor decides a first strike (a warning) on another account: the owner's second strike would reach the
    # ladder's restriction, which a vendor may not apply (domain.enforcement.ensure_may_apply).
    other = await flows.account(gql, platform, "creator-2")
    cases = []
    for i in range(3):
        video = await flows.content(gql, platform, other if i == 1 else owner, f"video-{i}")
        cases.append(str((await flows.report(gql, platform, video, hate))["case"]["id"]))
    removed = await flows.decide(gql, mod, cases[0], hate, actions=[{"kind": "REMOVE_CONTENT"}])
    by_vendor = await flows.decide(gql, vendor, cases[1], hate)
    kept = await flows.decide(gql, mod, cases[2], hate, verdict="NOT_VIOLATING")
    assert [removed["__typename"], by_vendor["__typename"], kept["__typename"]] == ["DecideCaseSuccess"] * 3
    appeal_input = {"decisionId": removed["decision"]["id"], "appellantAccountId": owner, "statement": "Satire."}
    filed = await gql(flows.FILE_APPEAL, {"input": appeal_input}, token=platform)
    appeal = flows.ok(filed, "fileAppeal", "FileAppealSuccess")["appeal"]["id"]
    decided = await gql(flows.DECIDE_APPEAL, {"input": {"appealId": appeal, "outcome": "OVERTURNED",
                                                        "rationale": "Satire."}}, token=senior)  # fmt: skip
    flows.ok(decided, "decideAppeal", "DecideAppealSuccess")

    pending = await gql("{ queues(filter: {surface: CONTENT}) { nodes { name qaBacklog } } }", token=analyst)
    assert {q["name"]: q["qaBacklog"] for q in pending["data"]["queues"]["nodes"]}["us-content"] == 3
    agreed = await _qa(gql, qa, cases[0], agrees=True)
    assert agreed["__typename"] == "SubmitQaReviewSuccess"
    assert agreed["qaReview"]["correctVerdict"] == "VIOLATING"
    wrong = await _qa(gql, qa, cases[1], agrees=False, correctVerdict="NOT_VIOLATING", openCorrectiveCase=True)
    assert wrong["qaReview"]["moderatorId"] == "partner:acme"
    assert wrong["correctiveCase"]["state"] == "ESCALATED"
    assert wrong["qaReview"]["correctiveCase"]["id"] == wrong["correctiveCase"]["id"]
    assert (await _qa(gql, qa, cases[2], agrees=True))["__typename"] == "SubmitQaReviewSuccess"
    again = await _qa(gql, qa, cases[2], agrees=True)
    assert again["__typename"] == "ConflictError"
    by_mod = await gql(SUBMIT_QA, {"input": {"caseId": cases[2], "agrees": True}}, token=mod)
    assert by_mod["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    window = {"region": "US", "from": start.isoformat(), "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}
    body = await gql(METRICS, window, token=analyst)
    assert "errors" not in body, body
    m = body["data"]["moderationMetrics"]
    assert (m["inflow"], m["decided"], m["slaAdherencePercent"]) == (4, 3, 100.0)
    assert m["backlog"][0] == {"age": "<1h", "count": 1}
    assert sum(b["count"] for b in m["backlog"]) == 1
    assert m["timeToDecisionP50Seconds"] >= 0
    assert m["timeToDecisionP90Seconds"] >= m["timeToDecisionP50Seconds"]
    assert m["decisions"] == [
        {"verdict": "NOT_VIOLATING", "policyCode": "HATE_SPEECH", "count": 1},
        {"verdict": "VIOLATING", "policyCode": "HATE_SPEECH", "count": 2},
    ]
    assert (m["appealRatePercent"], m["overturnRatePercent"]) == (50.0, 100.0)
    assert (m["automatedSharePercent"], m["humanSharePercent"]) == (0.0, 100.0)
    by_vendor_rows = {r["key"]: (r["reviews"], r["agreed"]) for r in m["qaAgreementByVendor"]}
    assert by_vendor_rows == {"acme": (1, 0), "in-house": (2, 2)}
    assert {r["key"]: r["agreementPercent"] for r in m["qaAgreementByModerator"]}["partner:acme"] == 0.0

    queued = await gql(METRICS, {**window, "queue": escalations["id"]}, token=analyst)
    assert queued["data"]["moderationMetrics"]["inflow"] == 1  # the corrective case
    listed = await gql("{ queues(filter: {region: US}) { nodes { name qaBacklog } } }", token=analyst)
    assert {q["name"]: q["qaBacklog"] for q in listed["data"]["queues"]["nodes"]} == {
        "us-escalations": 0, "us-content": 0}  # fmt: skip
    assert queue["qaSampleRate"] == 1.0


async def test_metrics_need_the_region(db_url: str, gql: GraphQLClient) -> None:
    eu_analyst = await issue_staff_token(db_url, "analyst", "EU")
    now = datetime.now(UTC)
    window = {"region": "US", "from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()}
    body = await gql(METRICS, window, token=eu_analyst)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
