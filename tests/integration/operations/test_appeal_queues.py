"""Appeals have their own queues: routing with an SLA, claimNextAppeal under contention, leases, release, access."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from persistence.db import create_engine, create_session_factory
from persistence.tables.outcomes import appeals
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import define_queue, raw_id
from tests.integration.tokens import issue_partner_token, issue_staff_token

APPEAL = "id state queueId slaDueAt filedAt assigneeId leaseExpiresAt"

CLAIM_NEXT_APPEAL = f"""
mutation($input: ClaimNextAppealInput!) {{ claimNextAppeal(input: $input) {{
  __typename ... on ClaimNextAppealSuccess {{ appeal {{ {APPEAL} }} }} {flows.ERRORS} }} }}"""

RELEASE_APPEAL = f"""
mutation($input: ReleaseAppealInput!) {{ releaseAppeal(input: $input) {{
  __typename ... on ReleaseAppealSuccess {{ appeal {{ {APPEAL} }} }} {flows.ERRORS} }} }}"""

APPEALS_IN_QUEUE = f"""
query($queueId: ID!) {{ appeals(filter: {{ queueId: $queueId }}) {{ nodes {{ {APPEAL} }} }} }}"""

APPEAL_SLA = {"urgent": 1, "high": 6, "medium": 24, "low": 48}


@pytest.fixture
async def tokens(db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "mod": await issue_staff_token(db_url, "moderator", "US"),
        "senior_a": await issue_staff_token(db_url, "senior_moderator", "US", name="senior-a"),
        "senior_b": await issue_staff_token(db_url, "senior_moderator", "US", name="senior-b"),
    }


async def _appeals_queue(gql: GraphQLClient, tokens: dict[str, str], **fields: Any) -> str:
    fields = {"surface": "APPEALS", "roles": ["senior_moderator"], "isDefault": True, "slaHours": APPEAL_SLA, **fields}
    return str((await define_queue(gql, tokens["admin"], "us-appeals", **fields))["id"])


async def _appealed(gql: GraphQLClient, tokens: dict[str, str], n: int = 1) -> list[str]:
    """`n` PENDING US appeals, each on its own creator's video decided VIOLATING by the US moderator."""
    spam = await flows.policy(gql, tokens["admin"], "SPAM", severity="LOW")
    ids = []
    for i in range(n):
        creator = await flows.account(gql, tokens["platform"], f"creator-{i}")
        video = await flows.content(gql, tokens["platform"], creator, f"video-{i}")
        case_id = (await flows.report(gql, tokens["platform"], video, spam))["case"]["id"]
        decided = await flows.decide(gql, tokens["mod"], case_id, spam, actions=[{"kind": "LABEL"}])
        assert decided["__typename"] == "DecideCaseSuccess", decided
        filed = await flows.file_appeal(gql, tokens["platform"], decided["decision"]["id"], creator)
        assert filed["__typename"] == "FileAppealSuccess", filed
        ids.append(str(filed["appeal"]["id"]))
    return ids


async def _claim(gql: GraphQLClient, token: str, queue_id: str, renew: str | None = None) -> dict[str, Any]:
    body = await gql(CLAIM_NEXT_APPEAL, {"input": {"queueId": queue_id, "renewAppealId": renew}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["claimNextAppeal"]
    return result


async def _release(gql: GraphQLClient, token: str, appeal_id: str) -> dict[str, Any]:
    body = await gql(RELEASE_APPEAL, {"input": {"appealId": appeal_id}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["releaseAppeal"]
    return result


async def _expire_leases(db_url: str) -> None:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(sa.update(appeals).values(lease_expires_at=sa.func.now() - timedelta(seconds=1)))
    finally:
        await engine.dispose()


async def test_an_appeal_lands_in_the_appeals_queue_with_its_sla(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    await define_queue(gql, tokens["admin"], "us-content", isDefault=True)
    queue_id = await _appeals_queue(gql, tokens)
    [appeal_id] = await _appealed(gql, tokens)

    listed = await gql(APPEALS_IN_QUEUE, {"queueId": queue_id}, token=tokens["senior_a"])

    assert "errors" not in listed, listed
    [appeal] = listed["data"]["appeals"]["nodes"]
    assert (appeal["id"], appeal["queueId"], appeal["state"]) == (appeal_id, queue_id, "PENDING")
    due = datetime.fromisoformat(appeal["slaDueAt"]) - datetime.fromisoformat(appeal["filedAt"])
    assert due == timedelta(hours=APPEAL_SLA["high"])
    assert (appeal["assigneeId"], appeal["leaseExpiresAt"]) == (None, None)


async def test_without_an_appeals_queue_an_appeal_is_unqueued(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    [appeal_id] = await _appealed(gql, tokens)
    found = await flows.node(gql, tokens["senior_a"], appeal_id, "... on Appeal { queueId slaDueAt }")
    assert found == {"id": appeal_id, "queueId": None, "slaDueAt": None}


async def test_8_concurrent_claimers_claim_20_appeals_each_exactly_once(
    db_url: str, gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    queue_id = await _appeals_queue(gql, tokens)
    filed = await _appealed(gql, tokens, 20)
    claimers = [await issue_staff_token(db_url, "senior_moderator", "US", name=f"senior-{i}") for i in range(8)]

    async def claimer(token: str) -> list[uuid.UUID]:
        mine: list[uuid.UUID] = []
        while True:
            result = await _claim(gql, token, queue_id)
            assert result["__typename"] == "ClaimNextAppealSuccess", result
            if result["appeal"] is None:
                return mine
            mine.append(raw_id(result["appeal"]["id"]))

    claimed = await asyncio.gather(*(claimer(t) for t in claimers))

    counts = Counter(appeal_id for mine in claimed for appeal_id in mine)
    assert sorted(counts) == sorted(raw_id(a) for a in filed)
    assert set(counts.values()) == {1}
    assert sum(1 for mine in claimed if mine) > 1


async def test_a_held_appeal_cannot_be_decided_by_another(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    queue_id = await _appeals_queue(gql, tokens)
    [appeal_id] = await _appealed(gql, tokens)
    claimed = await _claim(gql, tokens["senior_a"], queue_id)
    assert claimed["appeal"]["id"] == appeal_id
    assert claimed["appeal"]["assigneeId"] is not None

    other = await flows.decide_appeal(gql, tokens["senior_b"], appeal_id, "OVERTURNED")
    assert other["__typename"] == "ConflictError", other
    assert (await _claim(gql, tokens["senior_b"], queue_id))["appeal"] is None

    decided = await flows.decide_appeal(gql, tokens["senior_a"], appeal_id, "UPHELD")
    assert decided["__typename"] == "DecideAppealSuccess", decided
    after = await flows.node(gql, tokens["senior_a"], appeal_id, "... on Appeal { state leaseExpiresAt }")
    assert after == {"id": appeal_id, "state": "UPHELD", "leaseExpiresAt": None}
    assert (await _claim(gql, tokens["senior_b"], queue_id))["appeal"] is None


async def test_renew_and_release_return_the_appeal_to_the_queue(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    queue_id = await _appeals_queue(gql, tokens)
    [appeal_id] = await _appealed(gql, tokens)
    first = (await _claim(gql, tokens["senior_a"], queue_id))["appeal"]
    renewed = (await _claim(gql, tokens["senior_a"], queue_id, renew=appeal_id))["appeal"]
    assert renewed["leaseExpiresAt"] >= first["leaseExpiresAt"]
    assert (await _claim(gql, tokens["senior_b"], queue_id, renew=appeal_id))["__typename"] == "ConflictError"
    assert (await _release(gql, tokens["senior_b"], appeal_id))["__typename"] == "ConflictError"

    released = await _release(gql, tokens["senior_a"], appeal_id)

    assert released["__typename"] == "ReleaseAppealSuccess", released
    assert (released["appeal"]["assigneeId"], released["appeal"]["leaseExpiresAt"]) == (None, None)
    assert (await _claim(gql, tokens["senior_b"], queue_id))["appeal"]["id"] == appeal_id


async def test_an_expired_lease_is_free(db_url: str, gql: GraphQLClient, tokens: dict[str, str]) -> None:
    queue_id = await _appeals_queue(gql, tokens)
    [appeal_id] = await _appealed(gql, tokens)
    assert (await _claim(gql, tokens["senior_a"], queue_id))["appeal"]["id"] == appeal_id
    await _expire_leases(db_url)

    taken = await _claim(gql, tokens["senior_b"], queue_id)

    assert taken["appeal"]["id"] == appeal_id
    assert (await _release(gql, tokens["senior_a"], appeal_id))["__typename"] == "ConflictError"
    decided = await flows.decide_appeal(gql, tokens["senior_b"], appeal_id, "OVERTURNED")
    assert decided["__typename"] == "DecideAppealSuccess", decided


async def test_the_original_decider_is_never_handed_the_appeal(db_url: str, gql: GraphQLClient) -> None:
    tokens = {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "mod": await issue_staff_token(db_url, "senior_moderator", "US", name="senior-decider"),
        "senior_b": await issue_staff_token(db_url, "senior_moderator", "US", name="senior-b"),
    }
    queue_id = await _appeals_queue(gql, tokens)
    [appeal_id] = await _appealed(gql, tokens)  # decided by senior-decider
    assert (await _claim(gql, tokens["mod"], queue_id))["appeal"] is None
    assert (await _claim(gql, tokens["senior_b"], queue_id))["appeal"]["id"] == appeal_id


@pytest.mark.parametrize("role", ["auditor", "moderator"])
async def test_without_appeals_decide_claiming_is_forbidden(
    db_url: str, gql: GraphQLClient, tokens: dict[str, str], role: str
) -> None:
    queue_id = await _appeals_queue(gql, tokens, roles=["senior_moderator", "moderator", "auditor"])
    [appeal_id] = await _appealed(gql, tokens)
    token = await issue_staff_token(db_url, role, "US", name=f"{role}-x")

    claim = await gql(CLAIM_NEXT_APPEAL, {"input": {"queueId": queue_id}}, token=token)
    release = await gql(RELEASE_APPEAL, {"input": {"appealId": appeal_id}}, token=token)

    assert flows.error_code(claim) == "FORBIDDEN"
    assert flows.error_code(release) == "FORBIDDEN"


async def test_the_queue_roles_and_region_bound_who_claims(
    db_url: str, gql: GraphQLClient, tokens: dict[str, str]
) -> None:
    queue_id = await _appeals_queue(gql, tokens, roles=["policy_manager"])
    content_queue = str((await define_queue(gql, tokens["admin"], "us-content", roles=["senior_moderator"]))["id"])
    await _appealed(gql, tokens)
    senior_eu = await issue_staff_token(db_url, "senior_moderator", "EU")

    assert (await _claim(gql, tokens["senior_a"], queue_id))["__typename"] == "ForbiddenError"
    assert (await _claim(gql, senior_eu, queue_id))["__typename"] == "NotFoundError"
    wrong = await _claim(gql, tokens["senior_a"], content_queue)
    assert (wrong["__typename"], wrong["field"]) == ("InvalidInputError", "queueId")
