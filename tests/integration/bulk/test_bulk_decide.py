"""`bulkDecideCases`: checked up front, run chunk by chunk (the test drives each chunk), each item decided as
`decideCase` would decide it, failing alone, cancellable, resumed by another process once its lease expired."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from api.app import create_app
from api.graphql.ids import to_global_id
from api.services.bulk_jobs import BulkJobRunner, job_audit
from api.settings import Settings
from domain.bulk import BulkJob
from domain.clock import FixedClock
from domain.services.bulk import run_chunk
from persistence.db import create_engine
from persistence.fast.bulk import BulkUnitOfWork, get_job
from persistence.fast.sql import Pool, create_pool, recording_queries
from persistence.tables.audit import audit_events
from persistence.tables.auth import role_assignments
from persistence.tables.bulk import bulk_job_items, bulk_jobs
from tests.integration.bulk.helpers import CANCEL, job_items, open_cases, submit
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import raw_id
from tests.integration.tokens import issue_partner_token, issue_staff_token

pytestmark = pytest.mark.db


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[Pool]:
    created = await create_pool(db_url, size=2)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
async def world(gql: GraphQLClient, db_url: str) -> dict[str, str]:
    return {
        "platform": await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*"),
        "admin": await issue_staff_token(db_url, "admin", "*"),
        "mod_us": await issue_staff_token(db_url, "moderator", "US"),
        "mod_us_2": await issue_staff_token(db_url, "moderator", "US", name="moderator-US-2"),
        "vendor_us": await issue_staff_token(db_url, "vendor_moderator", "US"),
        "analyst": await issue_staff_token(db_url, "analyst", "US"),
    }


@pytest.fixture
async def hate(gql: GraphQLClient, world: dict[str, str]) -> str:
    return await flows.policy(gql, world["admin"], "HATE_SPEECH")


async def drain(runner: BulkJobRunner, job: BulkJob) -> int:
    """Run chunks until the job is done; how many chunks ran."""
    chunks = 0
    while True:
        outcome = await runner.run_chunk(job)
        chunks += outcome.ran
        if not outcome.ran or outcome.finished:
            return chunks


async def taken(runner: BulkJobRunner) -> BulkJob:
    job = await runner.take_over()  # in the test environment no process runs jobs: its lease is free
    assert job is not None
    return job


async def rows(db_url: str, statement: sa.Select[tuple[int]]) -> int:
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(statement)).scalar_one())
    finally:
        await engine.dispose()


async def test_a_job_decides_every_case_as_decide_case_would(
    gql: GraphQLClient, world: dict[str, str], hate: str, pool: Pool, db_url: str
) -> None:
    cases = await open_cases(gql, world["platform"], hate, 5)
    submitted = await submit(gql, world["mod_us"], cases, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    assert submitted["__typename"] == "BulkDecideCasesSuccess"
    assert submitted["job"]["state"] == "RUNNING"
    assert submitted["job"]["pending"] == 5

    runner = BulkJobRunner(pool, chunk_size=2)
    assert await drain(runner, await taken(runner)) == 3

    job, items = await job_items(gql, world["mod_us"], submitted["job"]["id"])
    assert (job["state"], job["succeeded"], job["failed"], job["pending"]) == ("COMPLETED", 5, 0, 0)
    assert job["finishedAt"] is not None
    assert [i["position"] for i in items] == [0, 1, 2, 3, 4]
    assert [i["caseId"] for i in items] == cases
    assert all(i["state"] == "SUCCEEDED" and i["decisionId"] and i["error"] is None for i in items)
    for case_id in cases:  # decided, enforced (removed, a strike), like a single decision
        body = await gql(
            "query($id: ID!) { node(id: $id) { ... on Case { state decision { verdict actions { kind } "
            "strikes { status } } subject { ... on Content { visibility } } } } }",
            {"id": case_id},
            token=world["admin"],
        )
        case = body["data"]["node"]
        assert case["state"] == "DECIDED"
        assert case["decision"]["verdict"] == "VIOLATING"
        assert sorted(a["kind"] for a in case["decision"]["actions"]) == ["REMOVE_CONTENT", "WARN"]  # WARN: ladder
        assert [s["status"] for s in case["decision"]["strikes"]] == ["ACTIVE"]
        assert case["subject"]["visibility"] == "REMOVED"
    # each decision audited by the submitter, under the job's operation, with the rationale
    mod = await rows(db_url, sa.select(sa.func.count()).where(audit_events.c.action == "bulkDecideCases"))
    decisions = await rows(
        db_url,
        sa.select(sa.func.count()).where(
            audit_events.c.action == "bulkDecideCases",
            audit_events.c.subject_kind == "Decision",
            audit_events.c.reason == "spam wave",
        ),
    )
    assert decisions == 5
    assert mod > 5


async def test_items_fail_alone_with_the_error_a_single_decision_gets(
    gql: GraphQLClient, world: dict[str, str], hate: str, pool: Pool
) -> None:
    us = await open_cases(gql, world["platform"], hate, 2)
    eu = await open_cases(gql, world["platform"], hate, 1, region="EU")
    decided = await flows.decide(gql, world["mod_us"], us[1], hate)
    assert decided["__typename"] == "DecideCaseSuccess"
    missing = to_global_id("Case", uuid.uuid4())
    submitted = await submit(gql, world["mod_us"], [us[0], us[1], eu[0], missing], hate)
    runner = BulkJobRunner(pool, chunk_size=10)
    await drain(runner, await taken(runner))

    job, items = await job_items(gql, world["mod_us"], submitted["job"]["id"])
    assert (job["state"], job["succeeded"], job["failed"]) == ("COMPLETED", 1, 3)
    outcomes = [(i["state"], (i["error"] or {}).get("code")) for i in items]
    assert outcomes == [
        ("SUCCEEDED", None),
        ("FAILED", "CONFLICT"),  # already decided
        ("FAILED", "NOT_FOUND"),  # outside the submitter's regions, as for decideCase
        ("FAILED", "NOT_FOUND"),  # no such case
    ]


async def test_sanctions_need_accounts_ban_in_each_items_region(
    gql: GraphQLClient, world: dict[str, str], hate: str, pool: Pool
) -> None:
    cases = await open_cases(gql, world["platform"], hate, 2)
    ban = [{"kind": "BAN_ACCOUNT"}]
    refused = await submit(gql, world["vendor_us"], cases[:1], hate, actions=ban)
    allowed = await submit(gql, world["mod_us"], cases[1:], hate, actions=ban)
    runner = BulkJobRunner(pool, chunk_size=10)
    for _ in range(2):
        await drain(runner, await taken(runner))

    _, items = await job_items(gql, world["vendor_us"], refused["job"]["id"])
    assert [(i["state"], i["error"]["code"], i["error"]["field"]) for i in items] == [
        ("FAILED", "FORBIDDEN", "actions")
    ]
    _, items = await job_items(gql, world["mod_us"], allowed["job"]["id"])
    assert [i["state"] for i in items] == ["SUCCEEDED"]


@pytest.mark.parametrize(
    ("case_ids", "fields", "code", "field"),
    [
        ("none", {}, "INVALID_INPUT", "caseIds"),
        ("not an id", {}, "INVALID_INPUT", "caseIds"),
        ("duplicate", {}, "INVALID_INPUT", "caseIds"),
        ("too many", {}, "INVALID_INPUT", "caseIds"),
        ("one", {"verdict": "NOT_VIOLATING", "actions": [{"kind": "REMOVE_CONTENT"}]}, "INVALID_INPUT", "actions"),
        ("one", {"actions": [{"kind": "REMOVE_CONTENT"}, {"kind": "REJECT_AD"}]}, "INVALID_INPUT", "actions"),
        ("one", {"rationale": "  "}, "INVALID_INPUT", "rationale"),
        ("one", {"policyId": to_global_id("Policy", uuid.uuid4())}, "NOT_FOUND", "policyId"),
    ],
)
async def test_bad_input_is_refused_up_front_and_writes_nothing(
    gql: GraphQLClient,
    world: dict[str, str],
    hate: str,
    db_url: str,
    case_ids: str,
    fields: dict[str, object],
    code: str,
    field: str,
) -> None:
    one = to_global_id("Case", uuid.uuid4())
    given = {
        "none": [],
        "not an id": ["not-an-id"],
        "duplicate": [one, one],
        "too many": [to_global_id("Case", uuid.uuid4()) for _ in range(1001)],
        "one": [one],
    }[case_ids]
    result = await submit(gql, world["mod_us"], given, hate, **fields)
    assert (result["code"], result["field"]) == (code, field), result
    assert await rows(db_url, sa.select(sa.func.count()).select_from(bulk_jobs)) == 0
    assert await rows(db_url, sa.select(sa.func.count()).select_from(bulk_job_items)) == 0


async def test_only_deciders_submit_and_only_the_submitter_sees_or_cancels(
    gql: GraphQLClient, world: dict[str, str], hate: str
) -> None:
    cases = await open_cases(gql, world["platform"], hate, 1)
    body = await gql(
        "mutation($i: BulkDecideCasesInput!) { bulkDecideCases(input: $i) { __typename } }",
        {"i": {"caseIds": cases, "verdict": "VIOLATING", "policyId": hate, "rationale": "x"}},
        token=world["analyst"],
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    submitted = await submit(gql, world["mod_us"], cases, hate)
    job_id = submitted["job"]["id"]
    other = await gql("query($id: ID!) { bulkJob(id: $id) { id } }", {"id": job_id}, token=world["mod_us_2"])
    assert other["data"]["bulkJob"] is None
    refused = await gql(CANCEL, {"id": job_id}, token=world["mod_us_2"])
    assert refused["data"]["cancelBulkJob"]["code"] == "NOT_FOUND"
    mine = await gql("query($id: ID!) { bulkJob(id: $id) { id } }", {"id": job_id}, token=world["mod_us"])
    assert mine["data"]["bulkJob"]["id"] == job_id
    node = "query($id: ID!) { node(id: $id) { __typename id ... on BulkJob { total } } }"
    assert (await gql(node, {"id": job_id}, token=world["mod_us"]))["data"]["node"]["total"] == 1
    assert (await gql(node, {"id": job_id}, token=world["mod_us_2"]))["data"]["node"] is None


async def test_a_revoked_role_stops_the_job_acting_in_that_region(
    gql: GraphQLClient, hate: str, world: dict[str, str], pool: Pool, db_url: str
) -> None:
    both = await issue_staff_token(db_url, "moderator", "US", name="mod-both")
    await issue_staff_token(db_url, "moderator", "EU", name="mod-both")
    us = await open_cases(gql, world["platform"], hate, 1)
    eu = await open_cases(gql, world["platform"], hate, 1, region="EU")
    submitted = await submit(gql, both, [us[0], eu[0]], hate)
    engine = create_engine(db_url, pool_size=1)
    try:
        async with engine.begin() as conn:  # the EU role is taken away while the job waits
            await conn.execute(sa.delete(role_assignments).where(role_assignments.c.region == "EU"))
    finally:
        await engine.dispose()
    runner = BulkJobRunner(pool, chunk_size=10)
    await drain(runner, await taken(runner))

    _, items = await job_items(gql, both, submitted["job"]["id"])
    assert [(i["state"], (i["error"] or {}).get("code")) for i in items] == [
        ("SUCCEEDED", None),
        ("FAILED", "NOT_FOUND"),
    ]
    stored = await get_job(pool, raw_id(submitted["job"]["id"]))
    assert stored is not None
    assert stored.decide_regions == "US"  # narrowed, in the job's row (and its audit event)


async def test_cancelling_stops_the_rest(gql: GraphQLClient, world: dict[str, str], hate: str, pool: Pool) -> None:
    cases = await open_cases(gql, world["platform"], hate, 5)
    submitted = await submit(gql, world["mod_us"], cases, hate)
    runner = BulkJobRunner(pool, chunk_size=2)
    job = await taken(runner)
    assert (await runner.run_chunk(job)).succeeded == 2

    body = await gql(CANCEL, {"id": submitted["job"]["id"]}, token=world["mod_us"])
    cancelled = body["data"]["cancelBulkJob"]
    assert cancelled["__typename"] == "CancelBulkJobSuccess", cancelled
    assert cancelled["cancelledItems"] == 3
    assert cancelled["job"]["state"] == "CANCELLED"
    assert not (await runner.run_chunk(job)).ran  # the runner stops: nothing more is decided

    _, items = await job_items(gql, world["mod_us"], submitted["job"]["id"])
    assert [i["state"] for i in items] == ["SUCCEEDED"] * 2 + ["CANCELLED"] * 3
    again = await gql(CANCEL, {"id": submitted["job"]["id"]}, token=world["mod_us"])
    assert again["data"]["cancelBulkJob"]["code"] == "INVALID_STATE"
    state = await gql(
        "query($id: ID!) { node(id: $id) { ... on Case { state } } }", {"id": cases[4]}, token=world["mod_us"]
    )
    assert state["data"]["node"]["state"] == "OPEN"


async def test_a_chunk_costs_the_same_statements_whatever_its_size(
    gql: GraphQLClient, world: dict[str, str], hate: str, db_url: str
) -> None:
    cases = await open_cases(gql, world["platform"], hate, 11)
    for chunk in (cases[:1], cases[1:3], cases[3:]):
        await submit(gql, world["mod_us"], chunk, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    single = await create_pool(db_url, size=1)  # one connection, its type codecs loaded by a first chunk
    try:
        warm_up = BulkJobRunner(single, chunk_size=1)
        await warm_up.run_chunk(await taken(warm_up))
        costs = {size: await _chunk_cost(BulkJobRunner(single, chunk_size=size)) for size in (2, 8)}
    finally:
        await single.close()
    # the unit of work: BEGIN, one read, one write, COMMIT; the pool also re-reads the submitter's roles
    assert costs[2] == costs[8] == (4, 5), costs


async def _chunk_cost(runner: BulkJobRunner) -> tuple[int, int]:
    """(round trips the unit of work counted, statements the pool sent) for one whole chunk."""
    job = await taken(runner)
    before = BulkUnitOfWork.statements
    with recording_queries() as sent:
        outcome = await runner.run_chunk(job)
        await asyncio.sleep(0)  # asyncpg reports a statement on the loop's next turn
    assert outcome.succeeded == job.total == runner.chunk_size
    return BulkUnitOfWork.statements - before, len(sent)


async def test_a_job_whose_process_stopped_is_resumed_by_another(
    gql: GraphQLClient, world: dict[str, str], hate: str, pool: Pool, db_url: str
) -> None:
    cases = await open_cases(gql, world["platform"], hate, 4)
    submitted = await submit(gql, world["mod_us"], cases, hate)
    first = BulkJobRunner(pool, chunk_size=2, owner="first")
    job = await taken(first)
    assert (await first.run_chunk(job)).succeeded == 2
    # `first` dies here. While its lease runs, no one else takes the job...
    second_now = FixedClock(datetime.now(UTC))
    second = BulkJobRunner(pool, chunk_size=2, owner="second", clock=second_now)
    assert await second.take_over() is None
    # ...once it expired, the next process does, and finishes it
    second_now.set(datetime.now(UTC) + timedelta(minutes=2))
    assert await second.resume_expired() == 1
    await asyncio.gather(*second._tasks)
    assert not (await first.run_chunk(job)).ran  # the old owner lost its lease
    stored = await get_job(pool, raw_id(submitted["job"]["id"]))
    assert stored is not None
    assert (stored.state.value, stored.succeeded, stored.lease_owner) == ("COMPLETED", 4, None)
    resumed = await rows(db_url, sa.select(sa.func.count()).where(audit_events.c.action == "resumeBulkJob"))
    assert resumed == 2  # the first runner took the job nobody ran (tests run none), then the second took it over


async def test_the_server_runs_a_submitted_job_itself(db_url: str) -> None:
    """Outside the test environment the app runs jobs as tasks; the test awaits them instead of the clock."""
    app = create_app(Settings(env="test", run_bulk_jobs=True), database_url=db_url)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        gql = GraphQLClient(http)
        platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
        admin = await issue_staff_token(db_url, "admin", "*")
        hate = await flows.policy(gql, admin, "HATE_SPEECH")
        cases = await open_cases(gql, platform, hate, 3)
        submitted = await submit(gql, admin, cases, hate)
        runner: BulkJobRunner = app.state.runtime.jobs.bulk_runner
        assert len(runner._tasks) == 1
        await asyncio.gather(*runner._tasks)
        job, items = await job_items(gql, admin, submitted["job"]["id"])
    assert (job["state"], job["succeeded"]) == ("COMPLETED", 3)
    assert [i["state"] for i in items] == ["SUCCEEDED"] * 3


async def test_a_process_stopping_cleanly_gives_its_lease_up(
    gql: GraphQLClient, world: dict[str, str], hate: str, pool: Pool
) -> None:
    cases = await open_cases(gql, world["platform"], hate, 1)
    await submit(gql, world["mod_us"], cases, hate)
    first = BulkJobRunner(pool, owner="first")
    job = await taken(first)
    second = BulkJobRunner(pool, owner="second")
    assert await second.take_over() is None  # held
    assert await first.release(job.id)
    assert not await second.release(job.id)  # not second's to give
    resumed = await second.take_over()  # at once, no lease to wait out
    assert resumed is not None
    assert resumed.id == job.id


async def test_eu_items_get_their_statement_of_reasons_and_cite_the_ladder(
    gql: GraphQLClient, world: dict[str, str], hate: str, pool: Pool
) -> None:
    eu = await open_cases(gql, world["platform"], hate, 2, region="EU")
    submitted = await submit(gql, world["admin"], eu, hate, actions=[{"kind": "REMOVE_CONTENT"}])
    runner = BulkJobRunner(pool, chunk_size=10)
    await drain(runner, await taken(runner))
    job, _ = await job_items(gql, world["admin"], submitted["job"]["id"])
    assert (job["state"], job["succeeded"]) == ("COMPLETED", 2)
    for case_id in eu:  # as a single decision: an EU restriction gets its statement, the ladder step its version
        body = await gql(
            "query($id: ID!) { node(id: $id) { ... on Case { decision { ladderVersion { number } "
            "dsaStatement { puid decisionVisibility } } } } }",
            {"id": case_id},
            token=world["admin"],
        )
        decision = body["data"]["node"]["decision"]
        assert decision["ladderVersion"] == {"number": 1}
        assert decision["dsaStatement"]["puid"].startswith("vigil-")
        assert decision["dsaStatement"]["decisionVisibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]


async def _waits_on_a_lock(pool: Pool, task: asyncio.Task[object]) -> bool:
    """Whether ``task`` ends up waiting for a lock (True) or finishes without waiting (False): PostgreSQL's lock
    table decides, not the clock."""
    for _ in range(2000):
        if task.done():
            return False
        if await pool.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"):
            return True
        await asyncio.wait([task], timeout=0.01)
    raise AssertionError("the cancel neither waited nor finished")


async def test_cancelling_while_a_chunk_runs_waits_for_it_and_succeeds_on_the_first_call(
    gql: GraphQLClient, world: dict[str, str], hate: str, db_url: str
) -> None:
    """A chunk holds the job (its transaction is open, its items decided in memory); ``cancelBulkJob`` waits for
    it, reads what it committed and cancels the rest: success on the first call, and the chunk is not lost
    (before, the cancel ran beside the chunk and whichever wrote second lost: CONFLICT while a job ran)."""
    cases = await open_cases(gql, world["platform"], hate, 5)
    submitted = await submit(gql, world["mod_us"], cases, hate)
    pool = await create_pool(db_url, size=3)
    try:
        runner = BulkJobRunner(pool, chunk_size=2)
        job = await taken(runner)
        chunk = BulkUnitOfWork(pool, job_audit(job), job.id, limit=3, policy_id=job.policy_id)
        await chunk.__aenter__()
        assert chunk.data.job is not None
        outcome = await run_chunk(
            chunk,
            chunk.data.job,
            chunk.data.items[:2],
            lease_owner=runner.owner,
            more=True,
            untouched=chunk.changes,
        )
        cancel = asyncio.create_task(gql(CANCEL, {"id": submitted["job"]["id"]}, token=world["mod_us"]))
        waited = await _waits_on_a_lock(pool, cancel)  # type: ignore[arg-type]
        await chunk.__aexit__(None, None, None)  # the chunk commits its two decisions
        body = await cancel
        assert waited, "the cancel did not wait for the running chunk"
        assert outcome.succeeded == 2
        cancelled = body["data"]["cancelBulkJob"]
        assert cancelled["__typename"] == "CancelBulkJobSuccess", cancelled
        assert cancelled["cancelledItems"] == 3
        _, items = await job_items(gql, world["mod_us"], submitted["job"]["id"])
        assert [i["state"] for i in items] == ["SUCCEEDED"] * 2 + ["CANCELLED"] * 3
    finally:
        await pool.close()
