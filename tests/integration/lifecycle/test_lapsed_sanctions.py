"""A suspension that has run out reads ACTIVE, in the field and in list filters, with no job to flip it."""

from __future__ import annotations

import sqlalchemy as sa

from persistence.db import create_engine
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

LIST = "query($s: AccountStatus!) { accounts(filter: {status: $s}) { nodes { handle status } } }"


async def _time_passes(db_url: str) -> None:
    """Move the suspension's end into the past (what a day of waiting would do)."""
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE enforcement_actions SET ends_at = now() - interval '1 hour' WHERE ends_at IS NOT NULL")
            )
            await conn.execute(
                sa.text("UPDATE accounts SET status_until = now() - interval '1 hour' WHERE status_until IS NOT NULL")
            )
    finally:
        await engine.dispose()


async def test_a_lapsed_suspension_reads_active(db_url: str, gql: GraphQLClient) -> None:
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    admin = await issue_staff_token(db_url, "admin", "*")
    mod = await issue_staff_token(db_url, "moderator", "US")
    spam = await flows.policy(gql, admin, "SPAM", severity="LOW")
    creator = await flows.account(gql, platform, "spammer")
    video = await flows.content(gql, platform, creator, "spam-video")
    case_id = (await flows.report(gql, platform, video, spam))["case"]["id"]
    decided = await flows.decide(gql, mod, case_id, spam, actions=[{"kind": "SUSPEND_ACCOUNT", "durationDays": 1}])
    assert decided["__typename"] == "DecideCaseSuccess", decided

    suspended = await gql(LIST, {"s": "SUSPENDED"}, token=mod)
    assert suspended["data"]["accounts"]["nodes"] == [{"handle": "spammer", "status": "SUSPENDED"}]

    await _time_passes(db_url)

    assert (await gql(LIST, {"s": "SUSPENDED"}, token=mod))["data"]["accounts"]["nodes"] == []
    active = await gql(LIST, {"s": "ACTIVE"}, token=mod)
    assert active["data"]["accounts"]["nodes"] == [{"handle": "spammer", "status": "ACTIVE"}]
