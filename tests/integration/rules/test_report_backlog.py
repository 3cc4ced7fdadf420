"""Reports' events are noted in the rules' backlog by report intake's own write (issue 22, follow-up): the reports,
their audit events and the note commit in one statement, so no process death between them can lose the events;
a batch of a region without rules writes no note, starts no evaluation task and costs no statement beyond the
intake's own two."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest

import api.services.rule_backlog as backlog_service
from persistence import rule_backlog
from persistence.fast.sql import recording_queries
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import fetch
from tests.integration.lifecycle import flows
from tests.integration.lifecycle.flows import SUBMIT_REPORTS
from tests.integration.rules.test_rule_actions import _live
from tests.integration.tokens import issue_partner_token, issue_staff_token

INTAKE_ROUND_TRIPS = 2  # prefetch, write (as tests/integration/test_hot_paths.py pins them)
REPORTED = 'rule "reported"\non content.reported\nin US\npolicy HATE\nwhen true\nthen label(content, "seen", 1d)\n'


async def _broken(*_: Any, **__: Any) -> Any:
    raise RuntimeError("the evaluation died after the commit")


async def _world(gql: GraphQLClient, db_url: str) -> tuple[str, str, str, str]:
    """An admin, the HATE policy, a US creator and their video; a rule on reported US content, live."""
    admin = await issue_staff_token(db_url, "admin", "*")
    policy = await flows.policy(gql, admin, "HATE")
    owner = await flows.account(gql, admin, "creator-1")
    video = await flows.content(gql, admin, owner, "video-1")
    await _live(gql, admin, REPORTED)
    return admin, policy, owner, video


async def test_a_reports_note_rides_in_the_intakes_write(
    gql: GraphQLClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, policy, _, video = await _world(gql, db_url)
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "US")
    await flows.report(gql, platform, video, policy, key="warm-up")  # new pool connections introspect types once
    await fetch(db_url, "DELETE FROM rule_backlog")
    monkeypatch.setattr(rule_backlog, "evaluate", _broken)  # the rules never run: the note stays
    with recording_queries() as statements:
        await flows.report(gql, platform, video, policy, key="k-1")
    assert len(statements) == INTAKE_ROUND_TRIPS, statements
    write = statements[-1]
    assert "INSERT INTO reports" in write
    assert "INSERT INTO rule_backlog" in write, "the note is written by the intake's write statement"
    [row] = await fetch(db_url, "SELECT source, request_id, events FROM rule_backlog")
    [accepted] = rule_backlog.from_json(row["events"])
    assert row["source"] == "submitReports"
    [report] = await fetch(db_url, "SELECT id FROM reports WHERE idempotency_key = 'k-1'")
    assert (accepted.event_id, accepted.event.idempotency_key) == (report["id"], f"report:{report['id']}")
    assert (accepted.event.type, dict(accepted.event.entities)) == (
        "content.reported",
        {"content": "video-1", "account": "creator-1"},
    )
    assert dict(accepted.event.attributes) == {"reporter": "partner:platform", "source": "USER", "policy_code": "HATE"}


async def test_a_batch_notes_each_kind_of_subject_with_its_owner(
    gql: GraphQLClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, policy, owner, video = await _world(gql, db_url)
    account_policy = await flows.policy(gql, admin, "FAKE", surface="ACCOUNT")
    other = await flows.account(gql, admin, "creator-2")
    other_video = await flows.content(gql, admin, other, "video-2")
    monkeypatch.setattr(rule_backlog, "evaluate", _broken)
    items = [
        {"subjectId": video, "policyId": policy, "source": "USER", "idempotencyKey": "b-1"},
        {"subjectId": owner, "policyId": account_policy, "source": "USER", "idempotencyKey": "b-2"},
        {"subjectId": other_video, "policyId": policy, "source": "USER", "idempotencyKey": "b-3"},
        {"subjectId": video, "policyId": policy, "source": "USER", "idempotencyKey": "b-1"},  # the same report
    ]
    body = await gql(SUBMIT_REPORTS, {"input": {"reports": items}}, token=admin)
    assert body["data"]["submitReports"]["__typename"] == "SubmitReportsSuccess", body
    [row] = await fetch(db_url, "SELECT events FROM rule_backlog")
    events = [(a.event.type, dict(a.event.entities)) for a in rule_backlog.from_json(row["events"])]
    assert events == [
        ("content.reported", {"content": "video-1", "account": "creator-1"}),
        ("account.reported", {"account": "creator-1"}),
        ("content.reported", {"content": "video-2", "account": "creator-2"}),
    ]
    again = await gql(SUBMIT_REPORTS, {"input": {"reports": items[:1]}}, token=admin)  # a retry: nothing new
    assert again["data"]["submitReports"]["__typename"] == "SubmitReportsSuccess", again
    assert len(await fetch(db_url, "SELECT id FROM rule_backlog")) == 1


async def test_a_region_without_rules_costs_no_task_and_no_statement(
    gql: GraphQLClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rules are live in the US; an EU report reads the rows and writes what it would with no rules anywhere (its
    prefetch asks for the owners of US subjects only: none)."""
    admin, policy, _, _ = await _world(gql, db_url)
    eu_owner = await flows.account(gql, admin, "creator-eu", region="EU")
    eu_video = await flows.content(gql, admin, eu_owner, "video-eu")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "EU")
    await flows.report(gql, platform, eu_video, policy, key="warm-up")
    shielded: list[Any] = []
    original = backlog_service.run_shielded

    def counted(work: Awaitable[Any]) -> Any:
        shielded.append(work)
        return original(work)

    monkeypatch.setattr("api.graphql.rule_evaluation.run_shielded", counted)
    with recording_queries() as statements:
        await flows.report(gql, platform, eu_video, policy, key="k-eu")
    assert len(statements) == INTAKE_ROUND_TRIPS, statements
    assert not any("rule" in s.lower() for s in statements), statements  # no note written, no rule table read
    assert shielded == [], "no evaluation task for a batch no rule can hit"
    assert await fetch(db_url, "SELECT id FROM rule_backlog") == []


async def test_a_crowd_notes_each_report_once(gql: GraphQLClient, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports racing on one post: an unlocked attempt that loses writes nothing, its note neither; the locked
    retry notes its report once."""
    _, policy, _, video = await _world(gql, db_url)
    tokens = [await issue_partner_token(db_url, f"user-{i}", ["platform_service"], "US") for i in range(8)]
    monkeypatch.setattr(rule_backlog, "evaluate", _broken)
    filed = await asyncio.gather(*(flows.report(gql, t, video, policy, key=f"crowd-{i}") for i, t in enumerate(tokens)))
    rows = await fetch(db_url, "SELECT events FROM rule_backlog")
    noted = [a.event_id for r in rows for a in rule_backlog.from_json(r["events"])]
    assert len(rows) == len(noted) == 8
    reports = await fetch(db_url, "SELECT id FROM reports")
    assert sorted(noted) == sorted(r["id"] for r in reports)
    assert len({f["report"]["id"] for f in filed}) == 8
