"""Issue 20 point 7: the writer's allowance in mutation payloads (`api.graphql.payloads`) holds in the record's
region only. A caller that writes ads in the US but reviews ads in the EU, without reading ads anywhere, gets the
US ad it reviews back in the payload and not the EU one.

Such a caller is a partner token whose issuer's roles cap it region by region: scopes `ads:write` and `ads:review`
in every region, issued by a staff member who is an admin in the US (ads:write there) and a moderator in the EU
(ads:review, not ads:write). Staff roles alone never hold a write without the matching read."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from tests.conftest import _asyncpg_dsn
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

ISSUER = "agency-lead"


async def _principal_id(db_url: str, name: str) -> uuid.UUID:
    conn = await asyncpg.connect(_asyncpg_dsn(db_url, str(make_url(db_url).database)))
    try:
        found: uuid.UUID = await conn.fetchval("SELECT id FROM principals WHERE name = $1", name)
    finally:
        await conn.close()
    return found


async def _pending_ad(gql: GraphQLClient, platform: str, region: str) -> str:
    advertiser = await flows.account(gql, platform, f"advertiser-{region}", region=region, kind="ADVERTISER")
    submitted = await flows.ad(gql, platform, advertiser, f"ad-{region}")
    return str(submitted["ad"]["id"])


async def test_a_payload_shows_the_writer_its_kind_of_record_only_where_it_writes(
    db_url: str, gql: GraphQLClient
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    await issue_staff_token(db_url, "admin", "US", name=ISSUER)
    await issue_staff_token(db_url, "moderator", "EU", name=ISSUER)
    agency = await issue_partner_token(
        db_url, "agency", ["ads:write", "ads:review"], "*", issued_by=await _principal_id(db_url, ISSUER)
    )
    us_ad, eu_ad = await _pending_ad(gql, platform, "US"), await _pending_ad(gql, platform, "EU")

    reviewed: dict[str, Any] = {}
    for ad in (us_ad, eu_ad):
        reviewed[ad] = await flows.review_ad(gql, agency, ad, outcome="APPROVE")
        assert reviewed[ad]["__typename"] == "ReviewAdSuccess", reviewed[ad]

    assert reviewed[us_ad]["ad"] == {"id": us_ad, "reviewStatus": "APPROVED", "serving": True}  # ads:write in US
    assert reviewed[eu_ad]["ad"] is None  # no ads:write (nor ads:read) in the EU: not shown
    assert reviewed[eu_ad]["decision"] is None  # nor cases:read
    for ad in (us_ad, eu_ad):  # both reviews happened
        seen = await flows.node(gql, admin, ad, "... on Ad { reviewStatus }")
        assert seen == {"id": ad, "reviewStatus": "APPROVED"}
