"""Every change partners hear of lands in the outbox in the transaction of the change, whichever unit of work
ran it (the SQL one of decisions and appeals, the prefetching one of intake and claims): one place derives the
events from the changes, so no command can forget them, and a refused command writes none."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from persistence.fast.sql import asyncpg_dsn
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import claim_next, define_queue
from tests.integration.tokens import issue_partner_token, issue_staff_token


async def outbox(db_url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        rows = await conn.fetch(
            "SELECT type, schema_version, region, subject_kind, payload::text AS payload "
            "FROM outbox_events ORDER BY seq"
        )
    finally:
        await conn.close()
    return [dict(r) | {"payload": json.loads(r["payload"])} for r in rows]


async def test_an_ad_rejected_then_overturned_on_appeal_tells_every_step(gql: GraphQLClient, db_url: str) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    admin = await issue_staff_token(db_url, "admin", "*")
    reviewer = await issue_staff_token(db_url, "senior_moderator", "US", name="reviewer-US")
    senior = await issue_staff_token(db_url, "senior_moderator", "US")
    advertiser = await flows.account(gql, platform, "advertiser-1", kind="ADVERTISER")
    submitted = await flows.ad(gql, platform, advertiser, "ad-1")
    policy = await flows.policy(gql, admin, "MISLEADING", surface="ADS", severity="MEDIUM")
    rejected = await flows.review_ad(gql, reviewer, submitted["ad"]["id"], policy_id=policy)
    assert rejected["__typename"] == "ReviewAdSuccess", rejected
    appeal = await flows.file_appeal(gql, platform, rejected["decision"]["id"], advertiser)
    before = len(await outbox(db_url))
    refused = await flows.decide_appeal(gql, reviewer, appeal["appeal"]["id"], "OVERTURNED")  # own decision
    assert refused["__typename"] == "ForbiddenError", refused
    assert len(await outbox(db_url)) == before  # a refused command writes no event
    decided = await flows.decide_appeal(gql, senior, appeal["appeal"]["id"], "OVERTURNED")
    assert decided["__typename"] == "DecideAppealSuccess", decided

    events = await outbox(db_url)
    types = [e["type"] for e in events]
    assert types[0] == "case.opened"
    assert sorted(types[1:before]) == sorted(
        ["decision.made", "enforcement.applied", "enforcement.applied", "case.state_changed", "notice.reporters_due",
         "ad.reviewed"]
    )  # fmt: skip
    assert sorted(types[before:]) == sorted(
        ["appeal.decided", "decision.overturned", "enforcement.reversed", "enforcement.reversed", "ad.reviewed"]
    )
    assert {e["region"] for e in events} == {"US"}
    reviews = [e["payload"] for e in events if e["type"] == "ad.reviewed"]
    assert [(r["from"], r["to"]) for r in reviews] == [("PENDING_REVIEW", "REJECTED"), ("REJECTED", "APPROVED")]
    made = next(e for e in events if e["type"] == "decision.made")
    assert made["subject_kind"] == "AD"
    assert made["payload"]["verdict"] == "VIOLATING"
    assert all(e["schema_version"] == 1 for e in events)


async def test_intake_and_claims_write_their_events_in_their_single_write(gql: GraphQLClient, db_url: str) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    admin = await issue_staff_token(db_url, "admin", "*")
    moderator = await issue_staff_token(db_url, "moderator", "US")
    owner = await flows.account(gql, admin, "owner-1")
    video = await flows.content(gql, admin, owner, "video-1")
    policy = await flows.policy(gql, admin, "SPAM")
    queue = (await define_queue(gql, admin, "content", isDefault=True))["id"]
    await flows.report(gql, platform, video, policy, key="a")
    await flows.report(gql, platform, video, policy, key="b")  # folds in: no state change, no event
    claimed = await claim_next(gql, moderator, queue)
    assert claimed["case"] is not None, claimed
    events = await outbox(db_url)
    assert [e["type"] for e in events] == ["case.opened", "case.state_changed"]
    opened, changed = events[0]["payload"], events[1]["payload"]
    assert opened["state"] == "OPEN"
    assert events[0]["subject_kind"] == "CONTENT"
    assert (changed["from"], changed["to"]) == ("OPEN", "ASSIGNED")
    assert changed["caseId"] == opened["caseId"]
