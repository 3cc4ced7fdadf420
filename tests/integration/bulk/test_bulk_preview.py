"""previewBulkDecideCases: what a bulk decision would do, writing nothing, in the figures applying it then gives;
and maxLadderStep: the decision applied, ladder steps above the level skipped and recorded on each item."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from api.services.bulk_jobs import BulkJobRunner
from domain.bulk import LadderLevel, level_of
from domain.enforcement import ActionKind
from persistence.db import create_engine
from persistence.fast.sql import Pool, create_pool
from persistence.tables.audit import audit_events
from persistence.tables.bulk import bulk_job_items
from persistence.tables.outcomes import enforcement_actions
from tests.integration.bulk.helpers import BULK_JOB, submit
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.lifecycle.flows import ERRORS
from tests.integration.operations.helpers import raw_id
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts

pytestmark = pytest.mark.db

PREVIEW = f"""
query($input: BulkDecideCasesInput!) {{ previewBulkDecideCases(input: $input) {{
  __typename ... on BulkDecidePreview {{ total decidable failures {{ code count }} strikes accountsWarned
    accountsRestricted accountsSuspended accountsBanned skippedLadderSteps }} {ERRORS} }} }}"""
ITEMS = BULK_JOB.replace("decisionId error", "decisionId skippedLadderStep error").replace(
    "finishedAt", "finishedAt maxLadderStep"
)


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[Pool]:
    created = await create_pool(db_url, size=2)
    try:
        yield created
    finally:
        await created.close()


async def _case(gql: GraphQLClient, platform: str, policy: str, owner: str, name: str) -> str:
    video = await flows.content(gql, platform, owner, name)
    return str((await flows.report(gql, platform, video, policy, key=name))["case"]["id"])


async def _world(gql: GraphQLClient, db_url: str) -> dict[str, Any]:
    """Cases in a job: A (no strike yet: warned), B (one strike: restricted), C (two cases: warned, then
    restricted), D (two strikes: banned), and one EU case the US submitter cannot see (NOT_FOUND)."""
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    mod = await issue_staff_token(db_url, "moderator", "US")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    owners = {name: await flows.account(gql, platform, f"owner-{name}") for name in "ABCD"}
    for name, prior in (("B", 1), ("D", 2)):
        for i in range(prior):
            earlier = await _case(gql, platform, hate, owners[name], f"earlier-{name}-{i}")
            decided = await flows.decide(gql, admin, earlier, hate, actions=[{"kind": "REMOVE_CONTENT"}])
            assert decided["__typename"] == "DecideCaseSuccess", decided
    eu_owner = await flows.account(gql, platform, "owner-eu", region="EU")
    cases = [
        await _case(gql, platform, hate, owners["A"], "job-A"),
        await _case(gql, platform, hate, owners["B"], "job-B"),
        await _case(gql, platform, hate, owners["C"], "job-C-1"),
        await _case(gql, platform, hate, owners["C"], "job-C-2"),
        await _case(gql, platform, hate, owners["D"], "job-D"),
        await _case(gql, platform, hate, eu_owner, "job-eu"),
    ]
    return {"mod": mod, "hate": hate, "cases": cases}


def _input(world: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "caseIds": world["cases"],
        "verdict": "VIOLATING",
        "policyId": world["hate"],
        "rationale": "spam wave",
        "actions": [{"kind": "REMOVE_CONTENT"}],
        **fields,
    }


async def _preview(gql: GraphQLClient, token: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = await gql(PREVIEW, {"input": payload}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["previewBulkDecideCases"]
    return result


async def _apply(gql: GraphQLClient, pool: Pool, world: dict[str, Any], **fields: Any) -> str:
    submitted = await submit(gql, world["mod"], world["cases"], world["hate"], **_input(world, **fields))
    assert submitted["__typename"] == "BulkDecideCasesSuccess", submitted
    runner = BulkJobRunner(pool, chunk_size=4)
    job = await runner.take_over()
    assert job is not None
    while (outcome := await runner.run_chunk(job)).ran and not outcome.finished:
        pass
    return str(submitted["job"]["id"])


async def _applied(db_url: str, job_id: str) -> dict[str, int]:
    """What the job did, read back: accounts by the highest ladder step its decisions added, and its strikes."""
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            decisions = sa.select(bulk_job_items.c.decision_id).where(bulk_job_items.c.job_id == raw_id(job_id))
            e = enforcement_actions.c
            ladder = await conn.execute(
                sa.select(e.target_id, e.kind).where(e.source == "LADDER", e.decision_id.in_(decisions))
            )
            order = list(LadderLevel)
            highest: dict[Any, LadderLevel] = {}
            for target, kind in ladder:
                level = level_of(ActionKind(kind))
                if target not in highest or order.index(level) > order.index(highest[target]):
                    highest[target] = level
            strikes = await conn.execute(
                sa.text("SELECT count(*) FROM strikes WHERE decision_id IN (SELECT decision_id FROM bulk_job_items "
                        "WHERE job_id = :job)"),
                {"job": raw_id(job_id)},
            )  # fmt: skip
            figures = {level.value: list(highest.values()).count(level) for level in LadderLevel}
            figures["strikes"] = int(strikes.scalar_one())
            return figures
    finally:
        await engine.dispose()


def _previewed(preview: dict[str, Any]) -> dict[str, int]:
    return {
        "WARN": preview["accountsWarned"],
        "RESTRICT": preview["accountsRestricted"],
        "SUSPEND": preview["accountsSuspended"],
        "BAN": preview["accountsBanned"],
        "strikes": preview["strikes"],
    }


async def test_the_preview_writes_nothing_and_applying_does_what_it_said(
    gql: GraphQLClient, db_url: str, pool: Pool
) -> None:
    world = await _world(gql, db_url)
    before = await row_counts(db_url)
    preview = await _preview(gql, world["mod"], _input(world))
    assert await row_counts(db_url) == before  # not a row, not an audit event

    assert preview["__typename"] == "BulkDecidePreview", preview
    assert (preview["total"], preview["decidable"]) == (6, 5)
    assert preview["failures"] == [{"code": "NOT_FOUND", "count": 1}]
    assert _previewed(preview) == {"WARN": 1, "RESTRICT": 2, "SUSPEND": 0, "BAN": 1, "strikes": 5}
    assert preview["skippedLadderSteps"] == 0

    job_id = await _apply(gql, pool, world)
    assert await _applied(db_url, job_id) == _previewed(preview)
    body = await gql(ITEMS, {"id": job_id}, token=world["mod"])
    items = body["data"]["bulkJob"]["items"]["nodes"]
    assert [i["state"] for i in items] == ["SUCCEEDED"] * 5 + ["FAILED"]
    assert [i["error"]["code"] for i in items if i["error"]] == ["NOT_FOUND"]


async def test_max_ladder_step_skips_the_steps_above_it_and_records_them(
    gql: GraphQLClient, db_url: str, pool: Pool
) -> None:
    world = await _world(gql, db_url)
    preview = await _preview(gql, world["mod"], _input(world, maxLadderStep="WARN"))
    # A and C are warned; B's restriction, C's second step and D's ban are skipped
    assert _previewed(preview) == {"WARN": 2, "RESTRICT": 0, "SUSPEND": 0, "BAN": 0, "strikes": 5}
    assert preview["skippedLadderSteps"] == 3

    job_id = await _apply(gql, pool, world, maxLadderStep="WARN")
    assert await _applied(db_url, job_id) == _previewed(preview)
    body = await gql(ITEMS, {"id": job_id}, token=world["mod"])
    job = body["data"]["bulkJob"]
    assert job["maxLadderStep"] == "WARN"
    skipped = [i["skippedLadderStep"] for i in job["items"]["nodes"]]
    assert skipped == [None, "RESTRICT_FEATURES:7", None, "RESTRICT_FEATURES:7", "BAN_ACCOUNT", None]
    assert [i["state"] for i in job["items"]["nodes"]] == ["SUCCEEDED"] * 5 + ["FAILED"]
    # each skip is in the audit trail, with the item's change, under the submitter's bulkDecideCases
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            a = audit_events.c
            audited = await conn.execute(
                sa.select(a.action, a.after["skipped_ladder_step"].astext).where(
                    a.after["skipped_ladder_step"].astext.is_not(None)
                )
            )
            assert sorted(audited.all()) == [
                ("bulkDecideCases", "BAN_ACCOUNT"),
                ("bulkDecideCases", "RESTRICT_FEATURES:7"),
                ("bulkDecideCases", "RESTRICT_FEATURES:7"),
            ]
    finally:
        await engine.dispose()


async def test_a_bad_preview_is_a_typed_error_and_writes_nothing(gql: GraphQLClient, db_url: str) -> None:
    mod = await issue_staff_token(db_url, "moderator", "US")
    admin = await issue_staff_token(db_url, "admin", "*")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    analyst = await issue_staff_token(db_url, "analyst", "US")  # no cases:decide
    before = await row_counts(db_url)
    payload = {"caseIds": [], "verdict": "VIOLATING", "policyId": hate, "rationale": "spam wave"}
    preview = await _preview(gql, mod, payload)
    assert (preview["__typename"], preview["code"], preview["field"]) == (
        "InvalidInputError",
        "INVALID_INPUT",
        "caseIds",
    )
    refused = await gql(PREVIEW, {"input": {**payload, "caseIds": ["x"]}}, token=analyst)
    assert refused["data"] is None or refused["data"]["previewBulkDecideCases"] is None
    assert await row_counts(db_url) == before
