"""Issue 20 point 7: an idempotency key belongs to its reporter, on every write path that files reports, over the
real database. Two reporters sending the same key each get a report of their own; a reporter sending its key again
gets its first report back and nothing is written.

The paths: report intake's prefetching unit of work (`persistence.fast.intake`: `submitReport`, `submitReports`) and the
SQL unit of work (`persistence.repositories.ReportRepository`: the reports `submitSignal` files). A partner's
reporter id is its organisation (`partner:<org>`), so the two reporters are two organisations."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import _asyncpg_dsn
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.operations.test_automation import define_rule, signal
from tests.integration.tokens import issue_partner_token, issue_staff_token, row_counts

KEY = "retry-7"


async def _reports(db_url: str) -> list[tuple[str, str | None]]:
    conn = await asyncpg.connect(_asyncpg_dsn(db_url, str(make_url(db_url).database)))
    try:
        rows = await conn.fetch("SELECT reporter_id, idempotency_key FROM reports ORDER BY reporter_id, created_at")
    finally:
        await conn.close()
    return [(r["reporter_id"], r["idempotency_key"]) for r in rows]


async def _intake(gql: GraphQLClient, mutation: str, token: str, subject: str, policy: str) -> str:
    """The report id one reporter gets back for `KEY` through `mutation`."""
    item = {"subjectId": subject, "policyId": policy, "source": "USER", "text": "reported", "idempotencyKey": KEY}
    if mutation == "submitReport":
        return str((await flows.report(gql, token, subject, policy, key=KEY))["report"]["id"])
    body = await gql(flows.SUBMIT_REPORTS, {"input": {"reports": [item]}}, token=token)
    [result] = flows.ok(body, "submitReports", "SubmitReportsSuccess")["results"]
    assert result["__typename"] == "SubmitReportSuccess", result
    return str(result["report"]["id"])


async def _setup(gql: GraphQLClient, db_url: str) -> tuple[str, str, str, str, str]:
    """(admin, alpha's token, beta's token, a video, a policy): two platform organisations."""
    admin = await issue_staff_token(db_url, "admin", "*")
    alpha = await issue_partner_token(db_url, "alpha", ["platform_service"], "*")
    beta = await issue_partner_token(db_url, "beta", ["platform_service"], "*")
    policy = await flows.policy(gql, admin, "HATE_SPEECH")
    owner = await flows.account(gql, admin, "owner")
    video = await flows.content(gql, admin, owner, "video")
    return admin, alpha, beta, video, policy


@pytest.mark.parametrize("mutation", ["submitReport", "submitReports"])
async def test_report_intake_scopes_keys_per_reporter(gql: GraphQLClient, db_url: str, mutation: str) -> None:
    _, alpha, beta, video, policy = await _setup(gql, db_url)

    alphas = await _intake(gql, mutation, alpha, video, policy)
    betas = await _intake(gql, mutation, beta, video, policy)
    assert betas != alphas  # beta's key is not alpha's: a report of its own

    before = await row_counts(db_url)
    assert await _intake(gql, mutation, alpha, video, policy) == alphas  # each retry: the reporter's first report
    assert await _intake(gql, mutation, beta, video, policy) == betas
    assert await row_counts(db_url) == before  # and nothing written
    assert await _reports(db_url) == [("partner:alpha", KEY), ("partner:beta", KEY)]


def _filed(body: dict[str, Any]) -> str:
    [outcome] = flows.ok(body, "submitSignal", "SubmitSignalSuccess")["outcomes"]
    assert outcome["outcome"] == "ENQUEUED", outcome
    return str(outcome["report"]["id"])


async def test_signal_reports_scope_keys_per_reporter(gql: GraphQLClient, db_url: str) -> None:
    admin, alpha, beta, video, policy = await _setup(gql, db_url)
    defined = await define_rule(gql, admin, policy)
    assert defined["__typename"] == "DefineAutomationRuleSuccess", defined

    alphas = _filed(await signal(gql, alpha, video, policy, 0.75, key=KEY))
    betas = _filed(await signal(gql, beta, video, policy, 0.75, key=KEY))
    assert betas != alphas

    before = await row_counts(db_url)
    assert _filed(await signal(gql, alpha, video, policy, 0.75, key=KEY)) == alphas
    assert _filed(await signal(gql, beta, video, policy, 0.75, key=KEY)) == betas
    assert await row_counts(db_url) == before
    stored = f"{KEY}:"  # a signal's report key is its key and the policy's id
    assert [(r, k is not None and k.startswith(stored)) for r, k in await _reports(db_url)] == [
        ("partner:alpha", True),
        ("partner:beta", True),
    ]
