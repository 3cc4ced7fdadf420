"""``submitEvents`` over the real app and database: per-item results, keys accepted once, region walls, one
audit record per batch and region, monthly partitions made on demand and pruned whole."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from persistence.events import prune
from persistence.fast.sql import create_pool
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import SUBMIT, event, fetch
from tests.integration.operator.helpers import run_vigil, vigil_env
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts


async def _submit(gql: GraphQLClient, token: str, events: list[dict[str, object]]) -> dict[str, object]:
    body = await gql(SUBMIT, {"events": events}, token=token)
    assert "errors" not in body, body
    payload: dict[str, object] = body["data"]["submitEvents"]
    return payload


async def test_each_item_succeeds_or_fails_alone_and_a_key_is_accepted_once(gql: GraphQLClient, db_url: str) -> None:
    token = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    bad_type = {**event("k-bad-type"), "type": "teleported"}
    no_account = {**event("k-no-account"), "entities": []}
    wrong_attribute = event("k-wrong-attr", text="x")
    wrong_attribute["attributes"] = {"text": 42}
    payload = await _submit(gql, token, [event("k-1"), bad_type, no_account, wrong_attribute, event("k-2")])
    results = payload["results"]
    assert [r["__typename"] for r in results] == [
        "SubmitEventSuccess",
        "InvalidInputError",
        "InvalidInputError",
        "InvalidInputError",
        "SubmitEventSuccess",
    ]
    assert [r.get("field") for r in results[1:4]] == [
        "events[1].type",
        "events[2].entities",
        "events[3].attributes.text",
    ]
    assert not results[0]["duplicate"]
    assert not results[4]["duplicate"]

    again = await _submit(gql, token, [event("k-1"), event("k-2", text="something else")])
    assert again["results"][0] == {
        "__typename": "SubmitEventSuccess",
        "eventId": results[0]["eventId"],
        "duplicate": True,
    }
    assert again["results"][1]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert again["results"][1]["field"] == "events[1].idempotencyKey"

    rows = await fetch(db_url, "SELECT idempotency_key, tableoid::regclass::text AS part FROM platform_events")
    assert sorted(r["idempotency_key"] for r in rows) == ["k-1", "k-2"]
    month = datetime.now(UTC)
    assert {r["part"] for r in rows} == {f"platform_event_partitions.platform_events_{month:%Y_%m}"}


async def test_one_audit_record_per_batch_and_region(gql: GraphQLClient, db_url: str) -> None:
    token = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    await _submit(gql, token, [event("a", region="US"), event("b", region="EU"), event("c", region="EU"), event("a")])
    audits = await fetch(
        db_url,
        "SELECT region, after FROM audit_events WHERE action = 'submitEvents' ORDER BY region",
    )
    assert [a["region"] for a in audits] == ["EU", "US"]
    eu, us = (json.loads(a["after"]) for a in audits)
    assert eu["accepted"] == 2
    assert eu["types"] == {"content.posted": 2}
    assert us["accepted"] == 1
    assert us["duplicates"] == 1
    batch = await fetch(db_url, "SELECT DISTINCT batch_id::text AS b FROM platform_events")
    assert [b["b"] for b in batch] == [eu["batch_id"]] == [us["batch_id"]]


async def test_a_token_sends_events_of_its_regions_only(gql: GraphQLClient, db_url: str) -> None:
    token = await issue_partner_token(db_url, "platform", ["platform_service"], "EU")
    payload = await _submit(gql, token, [event("eu-1", region="EU"), event("us-1", region="US")])
    assert payload["results"][0]["__typename"] == "SubmitEventSuccess"
    assert payload["results"][1] == {
        "__typename": "ForbiddenError",
        "code": "FORBIDDEN",
        "message": "you may not send events in region US",
        "field": "events[1].region",
    }
    assert [r["region"] for r in await fetch(db_url, "SELECT region FROM platform_events")] == ["EU"]


async def test_without_the_scope_or_over_the_batch_cap_nothing_is_written(gql: GraphQLClient, db_url: str) -> None:
    flagger = await issue_partner_token(db_url, "flagger", ["trusted_flagger"], "US")
    body = await gql(SUBMIT, {"events": [event("x")]}, token=flagger)
    assert body["data"] is None or body["data"]["submitEvents"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    before = await row_counts(db_url)
    payload = await _submit(gql, platform, [event(f"k{i}") for i in range(1001)])
    assert payload == {
        "__typename": "InvalidInputError",
        "code": "INVALID_INPUT",
        "message": "at most 1000 events per batch",
        "field": "events",
    }
    after = await row_counts(db_url)
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }


async def test_events_older_than_retention_are_dropped_by_whole_months(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    now = datetime.now(UTC)
    this_month = now.replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    old = (this_month - timedelta(days=70)).replace(day=3)
    payload = await _submit(gql, admin, [event("old", at=old), event("new", at=now)])
    assert all(r["__typename"] == "SubmitEventSuccess" for r in payload["results"])
    parts = await fetch(db_url, "SELECT DISTINCT tableoid::regclass::text AS p FROM platform_events ORDER BY 1")
    assert len(parts) == 2

    pool = await create_pool(db_url, size=1)
    try:
        dropped = await prune(pool, before=this_month - timedelta(days=1))
    finally:
        await pool.close()
    assert dropped == [f"platform_events_{old:%Y_%m}"]
    assert [r["idempotency_key"] for r in await fetch(db_url, "SELECT idempotency_key FROM platform_events")] == ["new"]
    assert [r["idempotency_key"] for r in await fetch(db_url, "SELECT idempotency_key FROM platform_event_keys")] == [
        "new"
    ]
    # The month comes back on demand, and the pruned key is new again.
    again = await _submit(gql, admin, [event("old", at=old)])
    assert again["results"][0]["duplicate"] is False


async def test_the_prune_command_keeps_the_retention_setting(gql: GraphQLClient, db_url: str, tmp_path: Path) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    old = datetime.now(UTC).replace(day=1) - timedelta(days=100)
    await _submit(gql, admin, [event("old", at=old), event("new")])
    env = vigil_env(tmp_path, VIGIL_DATABASE_URL=db_url)
    refused = await asyncio.to_thread(run_vigil, ["events", "prune"], env, tmp_path)
    assert refused.returncode != 0
    assert "VIGIL_EVENTS_RETENTION_DAYS" in refused.stderr
    kept = await asyncio.to_thread(
        run_vigil, ["events", "prune"], {**env, "VIGIL_EVENTS_RETENTION_DAYS": "30"}, tmp_path
    )
    assert kept.returncode == 0, kept.stderr
    assert f"platform_events_{old:%Y_%m}" in kept.stderr
    assert [r["idempotency_key"] for r in await fetch(db_url, "SELECT idempotency_key FROM platform_events")] == ["new"]
