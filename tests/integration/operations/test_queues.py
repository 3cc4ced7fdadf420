"""Queues through the API: routing and SLA, claim / renew / release, lease expiry, escalation, visibility."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from persistence.db import create_engine, create_session_factory
from persistence.tables.cases import cases
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import DEFINE_QUEUE, RELEASE, claim_next, define_queue, raw_id
from tests.integration.tokens import issue_partner_token, issue_staff_token


async def _expire_leases(db_url: str) -> None:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(sa.update(cases).values(lease_expires_at=sa.func.now() - timedelta(seconds=1)))
    finally:
        await engine.dispose()


async def _reported(gql: GraphQLClient, platform: str, admin: str, code: str, n: int = 1) -> list[str]:
    policy = await flows.policy(gql, admin, code)
    owner = await flows.account(gql, platform, f"creator-{code}")
    case_ids = []
    for i in range(n):
        video = await flows.content(gql, platform, owner, f"video-{code}-{i}", reach=10 ** (i + 1))
        case_ids.append(str((await flows.report(gql, platform, video, policy))["case"]["id"]))
    return case_ids


async def test_routing_sla_claim_renew_release_and_escalation(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    mod = await issue_staff_token(db_url, "moderator", "US")
    senior = await issue_staff_token(db_url, "senior_moderator", "US")
    escalations = await define_queue(gql, admin, "us-escalations", roles=["senior_moderator"])
    hate = await define_queue(
        gql, admin, "us-hate", policies=["HATE_SPEECH"], routingRank=1,
        slaHours={"urgent": 1, "high": 2, "medium": 3, "low": 4}, escalationQueueId=escalations["id"],
    )  # fmt: skip
    default = await define_queue(gql, admin, "us-content", isDefault=True)
    assert hate["slaHours"] == {"urgent": 1, "high": 2, "medium": 3, "low": 4}

    [first, second] = await _reported(gql, platform, admin, "HATE_SPEECH", 2)
    [spam] = await _reported(gql, platform, admin, "SPAM")
    claimed = await claim_next(gql, mod, hate["id"])
    case = claimed["case"]
    assert case["id"] == second  # more reach: higher priority, earlier SLA
    opened = await gql("query($id: ID!) { node(id: $id) { ... on Case { createdAt slaDueAt } } }", {"id": second},
                       token=admin)  # fmt: skip
    node = opened["data"]["node"]
    due = datetime.fromisoformat(node["slaDueAt"]) - datetime.fromisoformat(node["createdAt"])
    assert due == timedelta(hours=2)  # priority 40 + 5 + 0 + 6 = 51: the queue's "high" band
    assert (await claim_next(gql, mod, default["id"]))["case"]["id"] == spam

    renewed = await claim_next(gql, mod, hate["id"], renew=second)
    assert renewed["case"]["leaseExpiresAt"] >= case["leaseExpiresAt"]
    released = await gql(RELEASE, {"input": {"caseId": second}}, token=mod)
    assert flows.ok(released, "releaseCase", "ReleaseCaseSuccess")["case"]["state"] == "OPEN"

    escalated = await gql(flows.ESCALATE_CASE, {"input": {"caseId": first, "reason": "Newsworthy."}}, token=mod)
    assert flows.ok(escalated, "escalateCase", "EscalateCaseSuccess")["case"]["state"] == "ESCALATED"
    assert (await claim_next(gql, mod, hate["id"]))["case"]["id"] == second
    refused = await claim_next(gql, mod, escalations["id"])
    assert refused["__typename"] == "ForbiddenError"
    assert (await claim_next(gql, senior, escalations["id"]))["case"]["id"] == first


async def test_an_abandoned_lease_returns_to_the_queue(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    first_mod = await issue_staff_token(db_url, "moderator", "US", name="mod-a")
    second_mod = await issue_staff_token(db_url, "moderator", "US", name="mod-b")
    queue = await define_queue(gql, admin, "us-content", isDefault=True)
    [case_id] = await _reported(gql, platform, admin, "HATE_SPEECH")
    assert (await claim_next(gql, first_mod, queue["id"]))["case"]["id"] == case_id
    assert (await claim_next(gql, second_mod, queue["id"]))["case"] is None
    await _expire_leases(db_url)
    taken = await claim_next(gql, second_mod, queue["id"])
    assert taken["case"]["id"] == case_id
    assert taken["case"]["state"] == "ASSIGNED"
    stale = await gql(RELEASE, {"input": {"caseId": case_id}}, token=first_mod)
    assert stale["data"]["releaseCase"]["__typename"] == "ConflictError"


async def test_vendor_tooling_claims_only_from_vendor_queues(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    vendor = await issue_partner_token(db_url, "acme-vendor", ["vendor_tooling"], "US")
    in_house = await define_queue(gql, admin, "us-in-house")
    outsourced = await define_queue(gql, admin, "us-vendor", roles=["vendor_moderator"])
    assert (await claim_next(gql, vendor, in_house["id"]))["__typename"] == "ForbiddenError"
    assert (await claim_next(gql, vendor, outsourced["id"])) == {"__typename": "ClaimNextCaseSuccess", "case": None}


async def test_queue_definition_is_validated_and_regional(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    eu_manager = await issue_staff_token(db_url, "policy_manager", "EU")
    us_mod = await issue_staff_token(db_url, "moderator", "US")
    await define_queue(gql, admin, "us-content", isDefault=True)
    bad_role = {"region": "US", "name": "x", "surface": "CONTENT", "roles": ["wizard"]}
    body = await gql(DEFINE_QUEUE, {"input": bad_role}, token=admin)
    assert body["data"]["defineQueue"]["field"] == "roles"
    elsewhere = await gql(DEFINE_QUEUE, {"input": {**bad_role, "roles": ["moderator"]}}, token=eu_manager)
    assert elsewhere["data"]["defineQueue"]["__typename"] == "ForbiddenError"
    eu_queue = await define_queue(gql, eu_manager, "eu-content", region="EU")
    listed = await gql("{ queues { nodes { name region } } }", token=us_mod)
    assert listed["data"]["queues"]["nodes"] == [{"name": "us-content", "region": "US"}]
    assert (await claim_next(gql, us_mod, eu_queue["id"]))["__typename"] == "NotFoundError"


async def test_ads_wait_in_the_ads_review_queue(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    mod = await issue_staff_token(db_url, "moderator", "US")
    ads_queue = await define_queue(gql, admin, "us-ads", surface="ADS", isDefault=True)
    advertiser = await flows.account(gql, platform, "advertiser-1", kind="ADVERTISER")
    ad_id = (await flows.ad(gql, platform, advertiser, "ad-1"))["ad"]["id"]

    claimed = await claim_next(gql, mod, ads_queue["id"])

    assert claimed["__typename"] == "ClaimNextCaseSuccess", claimed
    body = await gql("query($id: ID!) { node(id: $id) { ... on Ad { reviewCase { id } } } }", {"id": ad_id}, token=mod)
    assert claimed["case"]["id"] == body["data"]["node"]["reviewCase"]["id"]


async def test_the_most_urgent_free_case_comes_first_whether_never_held_or_its_lease_expired(
    db_url: str, gql: GraphQLClient
) -> None:
    """A claim takes the more urgent of the first case nobody holds and the first whose lease expired (two index
    reads, ``persistence.operations.claimable_case``), and never one held now."""
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    first_mod = await issue_staff_token(db_url, "moderator", "US", name="mod-a")
    second_mod = await issue_staff_token(db_url, "moderator", "US", name="mod-b")
    queue = await define_queue(gql, admin, "us-content", isDefault=True)
    await _reported(gql, platform, admin, "HATE_SPEECH", n=3)
    urgent = [(await claim_next(gql, first_mod, queue["id"]))["case"]["id"] for _ in range(3)]  # in urgency order
    assert len(set(urgent)) == 3
    expired = sa.func.now() - timedelta(seconds=1)
    engine = create_engine(db_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            second = raw_id(urgent[1])
            await session.execute(sa.update(cases).where(cases.c.id == second).values(lease_expires_at=expired))
    finally:
        await engine.dispose()
    released = await gql(RELEASE, {"input": {"caseId": urgent[2]}}, token=first_mod)  # the least urgent: free again
    assert released["data"]["releaseCase"]["__typename"] == "ReleaseCaseSuccess", released
    assert (await claim_next(gql, second_mod, queue["id"]))["case"]["id"] == urgent[1]  # expired beats free
    assert (await claim_next(gql, second_mod, queue["id"]))["case"]["id"] == urgent[2]
    assert (await claim_next(gql, second_mod, queue["id"]))["case"] is None  # the first is held by mod-a
