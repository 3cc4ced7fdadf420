"""Backtests and retroaction (issue 22 point 5): a rule version in any state runs over the stored events of a
period as a job (keyset chunks, counters replayed, resumable after a crash with the same result, cancellable),
recording hits in the job and not as live hits, with precision against past human decisions and a sample;
``retroactRule`` decides the matched subjects as a bulk job with ``bulkDecideCases``' per-region checks (its other
actions: ``test_retroaction``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from api.app import create_app
from api.graphql.ids import parse_any
from api.services.backtest_jobs import BacktestRunner
from api.services.bulk_jobs import BulkJobRunner
from api.settings import Settings
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import NOW, SUBMIT, event, fetch
from tests.integration.lifecycle import flows
from tests.integration.rules.helpers import CREATE, mutate, rule_text
from tests.integration.rules.test_rules_on_events import login
from tests.integration.tokens import issue_partner_token, issue_staff_token

BACKTEST = """mutation($input: BacktestRuleInput!) { backtestRule(input: $input) {
  __typename ... on BacktestRuleSuccess { backtest { id state } } ... on Error { code field } } }"""
CANCEL = """mutation($input: CancelRuleBacktestInput!) { cancelRuleBacktest(input: $input) {
  __typename ... on BacktestRuleSuccess { backtest { state } } ... on Error { code field } } }"""
READ = """query($id: ID!) { ruleBacktest(id: $id) {
  state ruleVersion scanned hits failures progress retroJobId
  precision { value support confirmed reason }
  sample { subjectKind subjectId actions }
} }"""
RETRO = """mutation($input: RetroactRuleInput!) { retroactRule(input: $input) {
  __typename ... on RetroactRuleSuccess { cases snoozed job { id state total } }
  ... on Error { code field message } } }"""


def uuid_of(global_id: str) -> Any:
    import uuid

    parsed = parse_any(global_id)
    assert parsed is not None
    return uuid.UUID(parsed[1])


async def draft(gql: GraphQLClient, token: str, source: str) -> str:
    created = await mutate(gql, token, CREATE, {"region": "US", "source": source})
    assert created["__typename"] == "RuleSuccess", created
    return str(created["rule"]["id"])


async def backtest(gql: GraphQLClient, token: str, rule_id: str, **extra: Any) -> dict[str, Any]:
    body = await gql(BACKTEST, {"input": {"ruleId": rule_id, **extra}}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["backtestRule"]
    return result


async def read(gql: GraphQLClient, token: str, backtest_id: str) -> dict[str, Any] | None:
    body = await gql(READ, {"id": backtest_id}, token=token)
    assert "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["ruleBacktest"]
    return found


async def logins(gql: GraphQLClient, db_url: str) -> None:
    """Three days ago: u-1 logs in five times within 40 minutes, u-2 twice; one US event a week and a half ago."""
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    past = -3 * 24 * 60
    items = [login(f"a{i}", "u-1", minutes=past + 10 * i) for i in range(5)]
    items += [login(f"b{i}", "u-2", minutes=past + 5 + 10 * i) for i in range(2)]
    items += [login("old", "u-1", minutes=-10 * 24 * 60)]
    body = await gql(SUBMIT, {"events": items}, token=platform)
    assert "errors" not in body, body


async def test_a_draft_rule_backtested_over_last_week_with_its_counters_replayed_and_resumed_after_a_crash(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    rule_id = await draft(gql, admin, rule_text(threshold=3))  # DRAFT: never ran live
    await logins(gql, db_url)

    whole = await backtest(gql, admin, rule_id)
    assert whole["__typename"] == "BacktestRuleSuccess", whole
    runner = BacktestRunner(pool, chunk_size=2, pause=0)
    assert await runner.claim(uuid_of(whole["backtest"]["id"])) is not None
    await runner.run(uuid_of(whole["backtest"]["id"]))
    done = await read(gql, admin, whole["backtest"]["id"])
    assert done is not None
    assert (done["state"], done["ruleVersion"], done["scanned"], done["hits"], done["progress"]) == (
        "COMPLETED",
        1,
        7,  # the week's seven logins; the older one is outside the period
        3,  # u-1's third, fourth and fifth login within the hour
        1.0,
    )
    assert {(h["subjectKind"], h["subjectId"]) for h in done["sample"]} == {("account", "u-1")}
    assert done["sample"][0]["actions"] == ["LABEL"]
    assert await fetch(db_url, "SELECT * FROM rule_hits") == []  # not live hits

    # The same backtest, its process dying after the first chunk: another takes the lease over and replays the
    # counters of the hour before the cursor, so it finds the same hits.
    crashed = (await backtest(gql, admin, rule_id))["backtest"]["id"]
    first = BacktestRunner(pool, chunk_size=2, pause=0)
    assert await first.claim(uuid_of(crashed)) is not None
    assert await first.run_chunk(uuid_of(crashed)) is True
    assert await first.run_chunk(uuid_of(crashed)) is True
    second = BacktestRunner(pool, chunk_size=2, pause=0)
    assert await second.claim(uuid_of(crashed)) is None  # the first one's lease still holds
    await pool.execute("UPDATE rule_backtests SET lease_expires_at = now() - interval '1 second'")
    assert await second.resume_expired() == 1
    while second._tasks:
        await next(iter(second._tasks))
    resumed = await read(gql, admin, crashed)
    assert resumed is not None
    assert (resumed["state"], resumed["scanned"], resumed["hits"]) == ("COMPLETED", 7, 3)
    assert await first.run_chunk(uuid_of(crashed)) is False  # the old owner writes nothing more
    rows = await fetch(db_url, "SELECT count(*) AS n FROM rule_backtest_hits GROUP BY backtest_id")
    assert [r["n"] for r in rows] == [3, 3]
    audited = await fetch(db_url, "SELECT action, actor_id FROM audit_events WHERE subject_kind = 'RuleBacktest'")
    assert sorted(a["action"] for a in audited) == [
        *["backtestRule"] * 2,
        *["completeRuleBacktest"] * 2,
        *["resumeRuleBacktest"] * 3,  # each claim, the takeover after the crash among them
    ]


async def test_cancel_permissions_and_bad_input(gql: GraphQLClient, db_url: str, pool: asyncpg.Pool) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    await flows.policy(gql, admin, "SPAM")
    rule_id = await draft(gql, admin, rule_text(threshold=3))
    await logins(gql, db_url)
    job = (await backtest(gql, admin, rule_id))["backtest"]["id"]
    runner = BacktestRunner(pool, chunk_size=2, pause=0)
    await runner.claim(uuid_of(job))
    assert await runner.run_chunk(uuid_of(job)) is True
    cancelled = await gql(CANCEL, {"input": {"id": job}}, token=admin)
    assert cancelled["data"]["cancelRuleBacktest"] == {
        "__typename": "BacktestRuleSuccess",
        "backtest": {"state": "CANCELLED"},
    }
    assert await runner.run_chunk(uuid_of(job)) is False
    after = await read(gql, admin, job)
    assert after is not None
    assert (after["state"], after["scanned"]) == ("CANCELLED", 2)
    again = await gql(CANCEL, {"input": {"id": job}}, token=admin)
    assert again["data"]["cancelRuleBacktest"]["code"] == "INVALID_STATE"

    eu = await issue_staff_token(db_url, "admin", "EU")
    assert (await backtest(gql, eu, rule_id)) == {"__typename": "NotFoundError", "code": "NOT_FOUND", "field": "ruleId"}
    assert await read(gql, eu, job) is None
    analyst = await issue_staff_token(db_url, "analyst", "US")  # rules, not the entities hits name
    seen = await read(gql, analyst, job)
    assert seen is not None
    assert seen["sample"] is None
    period = {"start": NOW.isoformat(), "end": (NOW - timedelta(days=1)).isoformat()}
    assert (await backtest(gql, admin, rule_id, period=period))["code"] == "INVALID_INPUT"
    long = {"start": (NOW - timedelta(days=100)).isoformat(), "end": NOW.isoformat()}
    assert (await backtest(gql, admin, rule_id, period=long))["code"] == "INVALID_INPUT"
    assert (await backtest(gql, admin, rule_id, version=9))["code"] == "NOT_FOUND"
    assert (await fetch(db_url, "SELECT count(*) AS n FROM rule_backtests"))[0]["n"] == 1


async def test_precision_against_past_decisions_then_a_retroactive_bulk_decision(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool
) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    policy = await flows.policy(gql, admin, "SPAM")
    owner = await flows.account(gql, admin, "creator-b")
    videos = [await flows.content(gql, admin, owner, f"v-{i}") for i in range(3)]
    case = (await flows.report(gql, admin, videos[0], policy))["case"]["id"]
    assert (await flows.decide(gql, admin, case, policy))["__typename"] == "DecideCaseSuccess"
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    posts = []
    for i, text in enumerate(("free coins", "FREE COINS!", "free coins", "hello")):
        post = event(f"p{i}", account="creator-b", text=text, at=NOW - timedelta(days=2, minutes=i))
        post["entities"] = [{"kind": "ACCOUNT", "externalId": "creator-b"}, {"kind": "CONTENT", "externalId": f"v-{i}"}]
        posts.append(post)
    assert "errors" not in await gql(SUBMIT, {"events": posts}, token=platform)
    source = (
        'rule "coins"\non content.posted\nin US\npolicy SPAM\nwhen contains(lower(text), "free coins")\n'
        'then decide("REMOVE_CONTENT")\n'
    )
    rule_id = await draft(gql, admin, source)
    job = (await backtest(gql, admin, rule_id))["backtest"]["id"]
    runner = BacktestRunner(pool, pause=0)
    await runner.claim(uuid_of(job))
    await runner.run(uuid_of(job))
    done = await read(gql, admin, job)
    assert done is not None
    assert (done["hits"], done["precision"]) == (
        3,
        {"value": None, "support": 1, "confirmed": 1, "reason": "1 of the 20 judged hits needed for a figure"},
    )

    eu = await issue_staff_token(db_url, "admin", "EU")
    walled = await gql(RETRO, {"input": {"backtestId": job, "rationale": "coins"}}, token=eu)
    assert walled["data"]["retroactRule"]["code"] == "NOT_FOUND"
    applied = await gql(RETRO, {"input": {"backtestId": job, "rationale": "free coins spam"}}, token=admin)
    result = applied["data"]["retroactRule"]
    assert result["__typename"] == "RetroactRuleSuccess", result
    # v-0, decided by a person two days ago, is left alone (as a LIVE run would: a second decision would enforce
    # twice); v-1 and v-2 get a case each
    assert (result["cases"], result["snoozed"], result["job"]["total"]) == (2, 1, 2)
    twice = await gql(RETRO, {"input": {"backtestId": job, "rationale": "again"}}, token=admin)
    assert twice["data"]["retroactRule"]["code"] == "CONFLICT"
    bulk = BulkJobRunner(pool)
    bulk_job = await bulk.take_over()  # in the test environment no process runs jobs: its lease is free
    assert bulk_job is not None
    assert bulk_job.id == uuid_of(result["job"]["id"])
    assert (await bulk.run_chunk(bulk_job)).finished
    decided = await fetch(
        db_url,
        "SELECT c.external_id, d.decider_id, d.automated, d.rationale FROM decisions d "
        "JOIN contents c ON c.id = d.subject_id ORDER BY d.decided_at",
    )
    retro = [d for d in decided if d["rationale"].startswith("Retroactive: rule coins (version 1), backtest ")]
    assert len(retro) == 2
    assert all(d["rationale"].endswith("free coins spam") and not d["automated"] for d in retro)
    # every matched subject now has a decision (v-0 also the human one from before)
    assert {r["external_id"] for r in decided} == {"v-0", "v-1", "v-2"}
    reports = await fetch(db_url, "SELECT reporter_id FROM reports WHERE source = 'AUTOMATED'")
    assert len(reports) == 2
    assert all(r["reporter_id"].endswith(":v1") for r in reports)
    assert (await read(gql, admin, job) or {})["retroJobId"] == result["job"]["id"]


async def test_the_server_runs_a_backtest_itself(db_url: str) -> None:
    """Outside the test environment the app runs backtests as tasks; the test awaits them instead of the clock."""
    app = create_app(Settings(env="test", run_bulk_jobs=True), database_url=db_url)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        gql = GraphQLClient(http)
        admin = await issue_staff_token(db_url, "admin", "*")
        await flows.policy(gql, admin, "SPAM")
        rule_id = await draft(gql, admin, rule_text(threshold=3))
        await logins(gql, db_url)
        started = await backtest(gql, admin, rule_id)
        runner: BacktestRunner = app.state.runtime.jobs.backtest_runner
        assert len(runner._tasks) == 1
        await asyncio.gather(*runner._tasks)
        done = await read(gql, admin, started["backtest"]["id"])
        analyst = await issue_staff_token(db_url, "analyst", "US")  # may read rules, may not act
        refused = await gql(
            RETRO, {"input": {"backtestId": started["backtest"]["id"], "rationale": "x"}}, token=analyst
        )
    assert done is not None
    assert (done["state"], done["scanned"], done["hits"]) == ("COMPLETED", 7, 3)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
