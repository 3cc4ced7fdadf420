"""Webhook endpoints are regional resources: a token of the owning organisation reads and manages only the
endpoints whose every region it holds. An EU-only token of the organisation that owns a US endpoint neither
lists it nor rotates, disables, redelivers or retries it (each NOT_FOUND, nothing changed, no secret leaked)."""

from __future__ import annotations

import asyncpg

from persistence.fast.sql import asyncpg_dsn
from tests.integration.conftest import GraphQLClient
from tests.integration.outbox.helpers import (
    DELIVERIES,
    DISABLE,
    REDELIVER,
    REGISTER,
    RETRY,
    ROTATE,
    decided_case,
    dispatcher,
    register,
)
from tests.integration.outbox.receiver import running_receiver
from tests.integration.tokens import issue_partner_token, issue_staff_token


async def test_a_token_of_another_region_of_the_same_organisation_sees_nothing_of_a_us_endpoint(
    gql: GraphQLClient, db_url: str
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    us = await issue_partner_token(db_url, "platform", ["event_consumer"], "US")
    eu = await issue_partner_token(db_url, "platform", ["event_consumer"], "EU")
    everywhere = await issue_partner_token(db_url, "platform", ["event_consumer"], "*")
    with running_receiver() as receiver:
        hook = await register(gql, us, receiver.url("/fail"), ["decision.made"])
        eu_hook = await register(gql, eu, receiver.url("/eu"), ["decision.made"], ["EU"])
        hook_id = hook["webhook"]["id"]
        await decided_case(gql, admin, "walled")
        async with dispatcher(db_url) as d:
            await d.run_once()
    hooks = (await gql(DELIVERIES, token=us))["data"]["webhooks"]["nodes"]
    delivery_id = next(h for h in hooks if h["id"] == hook_id)["deliveries"]["nodes"][0]["id"]

    listed = await gql("{ webhooks { nodes { id } } }", token=eu)
    assert listed["data"]["webhooks"]["nodes"] == [{"id": eu_hook["webhook"]["id"]}]
    for mutation, name, variables in [
        (ROTATE, "rotateWebhookSecret", {"webhookId": hook_id}),
        (DISABLE, "disableWebhook", {"webhookId": hook_id}),
        (REDELIVER, "redeliverWebhook", {"deliveryId": delivery_id}),
        (RETRY, "retryWebhookDeliveries", {"webhookId": hook_id}),
    ]:
        answer = (await gql(mutation, {"input": variables}, token=eu))["data"][name]
        assert answer["code"] == "NOT_FOUND", (name, answer)
        assert "secret" not in answer
    both = {"url": receiver.url("/both"), "eventTypes": ["decision.made"], "regions": ["US", "EU"]}
    refused = (await gql(REGISTER, {"input": both}, token=eu))["data"]["registerWebhook"]
    assert refused["code"] == "FORBIDDEN"

    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        query = "SELECT version, disabled_at FROM webhook_endpoints WHERE url = $1"
        row = await conn.fetchrow(query, hook["webhook"]["url"])
        attempts = await conn.fetchval("SELECT attempts FROM webhook_deliveries")
    finally:
        await conn.close()
    assert row is not None
    assert (row["version"], row["disabled_at"], attempts) == (1, None, 1)  # nothing changed

    mine = await gql("{ webhooks { nodes { id } } }", token=us)
    assert mine["data"]["webhooks"]["nodes"] == [{"id": hook_id}]
    both_regions = await gql("{ webhooks { nodes { id } } }", token=everywhere)
    assert {n["id"] for n in both_regions["data"]["webhooks"]["nodes"]} == {hook_id, eu_hook["webhook"]["id"]}
    rotated = await gql(ROTATE, {"input": {"webhookId": hook_id}}, token=us)
    assert rotated["data"]["rotateWebhookSecret"]["__typename"] == "RotateWebhookSecretSuccess"
