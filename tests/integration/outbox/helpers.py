"""Shared steps of the outbox tests: register a webhook through GraphQL, make events happen, run the dispatcher."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from api.services.dispatcher import Dispatcher
from persistence.fast.sql import Pool, create_pool
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows

ERRORS = "... on Error { code message field }"
WEBHOOK = "webhook { id url eventTypes regions enabled previousSecretExpiresAt }"
REGISTER = f"""mutation($input: RegisterWebhookInput!) {{ registerWebhook(input: $input) {{
  __typename ... on RegisterWebhookSuccess {{ secret {WEBHOOK} }} {ERRORS} }} }}"""
ROTATE = f"""mutation($input: RotateWebhookSecretInput!) {{ rotateWebhookSecret(input: $input) {{
  __typename ... on RotateWebhookSecretSuccess {{ secret {WEBHOOK} }} {ERRORS} }} }}"""
DISABLE = f"""mutation($input: DisableWebhookInput!) {{ disableWebhook(input: $input) {{
  __typename ... on DisableWebhookSuccess {{ {WEBHOOK} }} {ERRORS} }} }}"""
REDELIVER = f"""mutation($input: RedeliverWebhookInput!) {{ redeliverWebhook(input: $input) {{
  __typename ... on RedeliverWebhookSuccess {{ delivery {{ id state attempts }} }} {ERRORS} }} }}"""
RETRY = f"""mutation($input: RetryWebhookDeliveriesInput!) {{ retryWebhookDeliveries(input: $input) {{
  __typename ... on RetryWebhookDeliveriesSuccess {{ retried {WEBHOOK} }} {ERRORS} }} }}"""
DELIVERIES = """query { webhooks { nodes { id deliveries(first: 50) { nodes {
  id state attempts lastStatus lastError eventId event { type region } } } } } }"""


async def register(
    gql: GraphQLClient, token: str, url: str, types: list[str], regions: list[str] | None = None
) -> dict[str, Any]:
    body = await gql(REGISTER, {"input": {"url": url, "eventTypes": types, "regions": regions or ["US"]}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["registerWebhook"]
    return result


async def decided_case(gql: GraphQLClient, admin: str, name: str, region: str = "US") -> str:
    """A content reported and decided VIOLATING with a removal: case.opened, decision.made, enforcement.applied,
    case.state_changed. Returns the case id."""
    owner = await flows.account(gql, admin, f"{name}-owner", region=region)
    video = await flows.content(gql, admin, owner, f"{name}-video")
    policy = await flows.policy(gql, admin, f"P_{name.upper().replace('-', '_')}")
    reported = await flows.report(gql, admin, video, policy, key=name)
    case_id: str = reported["case"]["id"]
    decided = await flows.decide(gql, admin, case_id, policy, actions=[{"kind": "REMOVE_CONTENT"}])
    assert decided["__typename"] == "DecideCaseSuccess", decided
    return case_id


@contextlib.asynccontextmanager
async def dispatcher(db_url: str, **options: Any) -> AsyncIterator[Dispatcher]:
    """A dispatcher on its own pool; it accepts local receivers (``allow_internal``) unless told otherwise."""
    pool: Pool = await create_pool(db_url, size=4)
    options.setdefault("allow_internal", True)
    d = Dispatcher(pool, **options)
    try:
        yield d
    finally:
        await d.http.aclose()
        await pool.close()
