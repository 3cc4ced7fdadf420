"""Documents and steps for the operations tests: queues, claims, QA, metrics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa

from api.graphql.ids import parse_any
from persistence.db import create_engine, create_session_factory
from persistence.tables.cases import cases
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle.flows import ERRORS, ok

CASE = "id state assigneeId leaseExpiresAt escalationReason slaDueAt priority"

DEFINE_QUEUE = f"""
mutation($input: DefineQueueInput!) {{ defineQueue(input: $input) {{
  __typename ... on DefineQueueSuccess {{ queue {{ id name region surface roles isDefault routingRank
    slaHours {{ urgent high medium low }} qaSampleRate escalationQueueId qaBacklog }} }} {ERRORS} }} }}"""

CLAIM_NEXT = f"""
mutation($input: ClaimNextCaseInput!) {{ claimNextCase(input: $input) {{
  __typename ... on ClaimNextCaseSuccess {{ case {{ {CASE} }} }} {ERRORS} }} }}"""

RELEASE = f"""
mutation($input: ReleaseCaseInput!) {{ releaseCase(input: $input) {{
  __typename ... on ReleaseCaseSuccess {{ case {{ {CASE} }} }} {ERRORS} }} }}"""

SUBMIT_QA = f"""
mutation($input: SubmitQaReviewInput!) {{ submitQaReview(input: $input) {{
  __typename ... on SubmitQaReviewSuccess {{ qaReview {{ id outcome moderatorId originalVerdict correctVerdict
    case {{ id }} correctiveCase {{ id state }} }} correctiveCase {{ id state escalationReason }} }} {ERRORS} }} }}"""

METRICS = """
query($region: Region!, $from: DateTime!, $to: DateTime!, $queue: ID) {
  moderationMetrics(region: $region, from: $from, to: $to, queue: $queue) {
    inflow decided slaAdherencePercent timeToDecisionP50Seconds timeToDecisionP90Seconds
    backlog { age count } decisions { verdict policyCode count }
    appealRatePercent overturnRatePercent automatedSharePercent humanSharePercent
    qaAgreementByModerator { key reviews agreed agreementPercent }
    qaAgreementByVendor { key reviews agreed agreementPercent } } }"""


async def define_queue(gql: GraphQLClient, token: str, name: str, **fields: Any) -> dict[str, Any]:
    payload = {"region": "US", "name": name, "surface": "CONTENT", "roles": ["moderator"], **fields}
    body = await gql(DEFINE_QUEUE, {"input": payload}, token=token)
    queue: dict[str, Any] = ok(body, "defineQueue", "DefineQueueSuccess")["queue"]
    return queue


async def claim_next(gql: GraphQLClient, token: str, queue_id: str, renew: str | None = None) -> dict[str, Any]:
    body = await gql(CLAIM_NEXT, {"input": {"queueId": queue_id, "renewCaseId": renew}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["claimNextCase"]
    return result


def raw_id(global_id: str) -> uuid.UUID:
    parsed = parse_any(global_id)
    assert parsed is not None
    return uuid.UUID(parsed[1])


async def seed_cases(db_url: str, queue_id: str, n: int, *, region: str = "US") -> list[uuid.UUID]:
    """`n` OPEN cases straight into the queue (no reports: the claim path only reads the case row)."""
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "region": region,
            "subject_kind": "CONTENT",
            "subject_id": uuid.uuid4(),
            "subject_account_id": uuid.uuid4(),
            "surface": "CONTENT",
            "state": "OPEN",
            "priority": i % 100,
            "report_count": 1,
            "queue_id": raw_id(queue_id),
            "sla_due_at": now + timedelta(hours=4, seconds=i),
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for i in range(n)
    ]
    engine = create_engine(db_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(sa.insert(cases), rows)
    finally:
        await engine.dispose()
    return [cast(uuid.UUID, r["id"]) for r in rows]
