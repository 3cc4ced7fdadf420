"""The hot paths' cost, pinned: report intake and batch intake take two round trips (one prefetch, one write,
each its own transaction) whatever the batch size, claims four (BEGIN, the claim's read, one write, COMMIT), and
a crowd reporting one post folds into one case without a single error (the reports that lose the unlocked race
retry locked: BEGIN with the subject locks, prefetch, write, COMMIT). Timings live in `make bench`; these are
counts, which do not flake."""

from __future__ import annotations

import asyncio
from typing import Any

from persistence.fast.sql import recording_queries
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle.flows import SUBMIT_REPORT, SUBMIT_REPORTS, account, content, ok, policy, report
from tests.integration.operations.helpers import claim_next, define_queue
from tests.integration.operations.test_automation import define_rule, signal
from tests.integration.tokens import issue_partner_token, issue_staff_token

ROUND_TRIPS = 4  # claims: BEGIN, the claim's read, write, COMMIT
INTAKE_ROUND_TRIPS = 2  # prefetch, write (a first attempt nobody raced)


async def _setup(gql: GraphQLClient, db_url: str, subjects: int) -> tuple[str, str, list[str]]:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    owner = await account(gql, admin, "hot-owner")
    policy_id = await policy(gql, admin, "HOT_SPAM")
    videos = [await content(gql, admin, owner, f"hot-video-{i}") for i in range(subjects)]
    await report(gql, platform, videos[-1], policy_id)  # new pool connections introspect types once
    return platform, policy_id, videos


async def _counted(gql: GraphQLClient, query: str, variables: dict[str, Any], token: str) -> tuple[Any, list[str]]:
    with recording_queries() as statements:
        body = await gql(query, variables, token=token)
    return body, list(statements)


async def test_a_report_opens_or_folds_into_a_case_in_two_round_trips(gql: GraphQLClient, db_url: str) -> None:
    platform, policy_id, videos = await _setup(gql, db_url, 2)
    with recording_queries() as opening:
        first = await report(gql, platform, videos[0], policy_id, key="k-1")
    with recording_queries() as folding:
        second = await report(gql, platform, videos[0], policy_id, key="k-2")
    with recording_queries() as retry:
        again = await report(gql, platform, videos[0], policy_id, key="k-2")
    assert len(opening) == len(folding) == INTAKE_ROUND_TRIPS, (opening, folding)
    assert len(retry) == 1  # the prefetch finds the report: nothing to write
    assert first["report"]["id"] != second["report"]["id"] == again["report"]["id"]


async def test_a_batch_costs_the_same_round_trips_for_10_and_50_reports(gql: GraphQLClient, db_url: str) -> None:
    platform, policy_id, videos = await _setup(gql, db_url, 25)
    costs = {}
    for size in (10, 50):
        items = [
            {
                "subjectId": videos[i % len(videos)],
                "policyId": policy_id,
                "source": "USER",
                "idempotencyKey": f"{size}-{i}",
            }
            for i in range(size)
        ]
        body, statements = await _counted(gql, SUBMIT_REPORTS, {"input": {"reports": items}}, platform)
        results = ok(body, "submitReports", "SubmitReportsSuccess")["results"]
        assert [r["__typename"] for r in results] == ["SubmitReportSuccess"] * size
        costs[size] = len(statements)
    assert costs == {10: INTAKE_ROUND_TRIPS, 50: INTAKE_ROUND_TRIPS}


async def test_a_brigade_on_one_post_folds_into_one_case_with_every_report(gql: GraphQLClient, db_url: str) -> None:
    platform, policy_id, videos = await _setup(gql, db_url, 2)
    crowd = 24
    results = await asyncio.gather(
        *(report(gql, platform, videos[0], policy_id, key=f"crowd-{i}") for i in range(crowd))
    )
    assert all(r["__typename"] == "SubmitReportSuccess" for r in results)
    admin = await issue_staff_token(db_url, "admin", "*")
    body = await gql(
        "query($s: ID!) { cases(filter: {subjectId: $s}) { nodes { state reportCount } } }",
        {"s": videos[0]},
        token=admin,
    )
    assert body["data"]["cases"]["nodes"] == [{"state": "OPEN", "reportCount": crowd}]


async def test_an_idempotency_key_reused_for_another_report_is_refused(gql: GraphQLClient, db_url: str) -> None:
    platform, policy_id, videos = await _setup(gql, db_url, 2)
    await report(gql, platform, videos[0], policy_id, key="same-key")
    body = await gql(
        "mutation($input: SubmitReportInput!) { submitReport(input: $input) { __typename "
        "... on Error { code field } } }",
        {"input": {"subjectId": videos[1], "policyId": policy_id, "source": "USER", "idempotencyKey": "same-key"}},
        token=platform,
    )
    assert body["data"]["submitReport"] == {
        "__typename": "ConflictError",
        "code": "IDEMPOTENCY_KEY_REUSED",
        "field": "idempotencyKey",
    }


async def test_claiming_the_next_case_takes_four_round_trips(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    queue = await define_queue(gql, admin, "hot-queue", isDefault=True)
    platform, policy_id, videos = await _setup(gql, db_url, 3)
    for video in videos:
        await report(gql, platform, video, policy_id)
    moderator = await issue_staff_token(db_url, "moderator", "US")
    await claim_next(gql, moderator, queue["id"])  # warm
    with recording_queries() as statements:
        claimed = await claim_next(gql, moderator, queue["id"])
    assert claimed["__typename"] == "ClaimNextCaseSuccess", claimed
    assert claimed["case"] is not None
    assert len(statements) == ROUND_TRIPS, statements


async def test_signals_and_reports_racing_on_one_post_fold_into_one_case_without_a_conflict(
    gql: GraphQLClient, db_url: str
) -> None:
    """``submitSignal`` (the SQL unit of work) and ``submitReport`` (report intake) take the same subject lock, so
    16 of each at once on one new post end in one case holding all 32 reports, and none answers CONFLICT."""
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    owner = await account(gql, admin, "race-owner")
    policy_id = await policy(gql, admin, "RACE_HATE")
    video = await content(gql, admin, owner, "race-video")
    warm = await content(gql, admin, owner, "warm-video")
    rule = await define_rule(gql, admin, policy_id, enqueueThreshold=0.5, decideThreshold=0.99)
    assert rule["__typename"] == "DefineAutomationRuleSuccess", rule
    await report(gql, platform, warm, policy_id)  # new pool connections introspect types once
    crowd = 16
    signals = [signal(gql, platform, video, policy_id, 0.7, key=f"signal-{i}") for i in range(crowd)]
    reports = [
        gql(SUBMIT_REPORT, {"input": _report_input(video, policy_id, f"report-{i}")}, token=platform)
        for i in range(crowd)
    ]
    bodies = await asyncio.gather(*(c for pair in zip(signals, reports, strict=True) for c in pair))
    outcomes = [b["data"]["submitSignal"] for b in bodies if "submitSignal" in b.get("data", {})]
    filed = [b["data"]["submitReport"] for b in bodies if "submitReport" in b.get("data", {})]
    assert [o["__typename"] for o in outcomes] == ["SubmitSignalSuccess"] * crowd, outcomes
    assert {o["outcomes"][0]["outcome"] for o in outcomes} == {"ENQUEUED"}
    assert [r["__typename"] for r in filed] == ["SubmitReportSuccess"] * crowd, filed
    body = await gql(
        "query($s: ID!) { cases(filter: {subjectId: $s}) { nodes { state reportCount } } }", {"s": video}, token=admin
    )
    assert body["data"]["cases"]["nodes"] == [{"state": "OPEN", "reportCount": 2 * crowd}]


def _report_input(subject: str, policy_id: str, key: str) -> dict[str, Any]:
    return {"subjectId": subject, "policyId": policy_id, "source": "USER", "idempotencyKey": key}
