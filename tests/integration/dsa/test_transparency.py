"""The transparency report on a seeded month whose true figures are stated here by hand: GraphQL, the JSON, the
HTML page and the Quantitative Template's CSV all show exactly them. The month is built with the domain's own
services on a fixed clock (so every time, and every median, is known), plus the authority orders, out-of-court
disputes and monthly active recipients recorded through GraphQL (their way in)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import shutil
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any, TypeVar

import pytest

from api.services.transparency_csv import cell
from api.services.transparency_html import render_html
from api.services.transparency_report import QUALITATIVE, QUANTITATIVE, About, report_document
from domain.account import AccountKind
from domain.actor import Actor, ActorKind, Capability
from domain.appeal import AppealState
from domain.clock import FixedClock
from domain.content import ContentKind
from domain.decision import Verdict
from domain.enforcement import ActionKind, RequestedAction
from domain.policy import Severity
from domain.region import Region
from domain.report import ReportSource
from domain.services.account import UpsertAccount, upsert_account
from domain.services.appeal import DecideAppeal, FileAppeal, decide_appeal, file_appeal
from domain.services.content import UpsertContent, upsert_content
from domain.services.decision import DecideCase, decide_case
from domain.services.policy import DefinePolicy, define_policy
from domain.services.report import SubmitReport, submit_report
from domain.subject import SubjectKind, Surface
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.queries.transparency import Row, TransparencyFigures
from persistence.repositories import PostgresUnitOfWork
from persistence.uow import AuditContext
from tests.integration.conftest import GraphQLClient
from tests.integration.tokens import issue_partner_token, issue_staff_token

T = TypeVar("T")
VIGIL = str(Path(sys.executable).parent / "vigil")
CHROMIUM = "/usr/bin/chromium"
MARCH = {"region": "EU", "from": "2026-03-01T00:00:00+00:00", "to": "2026-04-01T00:00:00+00:00"}
SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
T_C = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
EU_SANCTION = frozenset({(Capability.SANCTION_ACCOUNTS, Region.EU)})
MOD = Actor(id="staff:mod", kind=ActorKind.STAFF, seniority=1, capabilities=EU_SANCTION)
SENIOR = Actor(id="staff:senior", kind=ActorKind.STAFF, seniority=2, capabilities=EU_SANCTION)
ROBOT = Actor(id="automation:classifier", kind=ActorKind.AUTOMATION)
PLATFORM = Actor(id="partner:platform", kind=ActorKind.TOKEN)
ABOUT = {
    "provider_name": "Example Platform B.V.",
    "service_name": "Example",
    "qualitative": {
        "own_initiative_summary": "Classifiers flag, people decide.\nRules too.",
        "methodology": "As in the README.",
    },
    "human_resources": {"EN": 5, "DE": 3},
}
#: The month's true figures, by hand (see ``_seed``).
EXPECTED: dict[str, Any] = {
    "period_start": "2026-03-01",
    "period_end": "2026-03-31",
    "provider_name": "Example Platform B.V.",
    # orders: o1 DE (2 h to inform, 12 h to act), o2 FR (6 h, 72 h); o3 information DE (1 h, not acted); o4 is February
    "orders_act": 2,
    "orders_act_by_member_state": [{"key": "DE", "count": 1}, {"key": "FR", "count": 1}],
    "orders_act_by_category": [{"key": SPEECH, "count": 1}, {"key": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "count": 1}],
    "orders_act_median_hours_to_inform": 4.0,
    "orders_act_median_hours_to_act": 42.0,
    "orders_information": 1,
    "orders_information_by_member_state": [{"key": "DE", "count": 1}],
    "orders_information_median_hours_to_inform": 1.0,
    "orders_information_median_hours_to_act": None,
    # notices: r1 (user) and r2 (trusted flagger) on c1, r3 (user) on c2; r4 classifier, r5 staff flag, r6 legal,
    # the US report and the one on 1 April are not art. 16 notices of the month
    "notices": 3,
    "notices_by_source": [{"key": "TRUSTED_FLAGGER", "count": 1}, {"key": "USER", "count": 2}],
    "notices_by_category": [{"key": SPEECH, "count": 3}],
    "notices_by_member_state": [{"key": "UNKNOWN", "count": 3}],
    "trusted_flagger_notices": 1,
    "notices_handled_by_automated_means": 0,
    "notice_restrictions_by_ground": [{"key": T_C, "count": 1}],
    "median_hours_notice_to_decision": 7.0,  # c1: 4 h, c2: 10 h
    "trusted_flagger_median_hours_notice_to_decision": 3.0,
    # restrictions: d1 removal (+ two warnings), d3 removal (automated), d4 age restriction (staff flag),
    # d5 removal + demotion (one visibility restriction) + suspension
    "restrictions": 5,
    "restrictions_by_type": [{"key": "ACCOUNT", "count": 1}, {"key": "VISIBILITY", "count": 4}],
    "restrictions_by_action": [
        {"key": "AGE_RESTRICT", "count": 1},
        {"key": "LIMIT_DISTRIBUTION", "count": 1},
        {"key": "REMOVE_CONTENT", "count": 3},
        {"key": "SUSPEND_ACCOUNT", "count": 1},
    ],
    "restrictions_by_ground": [{"key": T_C, "count": 5}],
    "restrictions_by_category": [{"key": SPEECH, "count": 5}],
    "restrictions_by_origin": [
        {"key": "NOTICE", "count": 1},
        {"key": "OTHER_NOTIFICATION", "count": 2},
        {"key": "OWN_INITIATIVE", "count": 2},
    ],
    "warnings": 4,
    "own_initiative_restrictions": 2,
    "own_initiative_by_detection": [{"key": "AUTOMATED", "count": 1}, {"key": "MANUAL", "count": 1}],
    "own_initiative_by_type": [{"key": "VISIBILITY", "count": 2}],
    # complaints: a1 on d1 overturned after 6 h, a2 on d3 upheld after 2 h
    "complaints_received": 2,
    "complaints_by_basis": [{"key": T_C, "count": 2}],
    "complaints_decided": 2,
    "complaints_upheld": 1,
    "complaints_overturned": 1,
    "median_hours_to_decide_complaint": 4.0,
    # disputes: on d3 (for the provider, 5 days), d5 (for the recipient, implemented, 1.5 days), d4 (pending)
    "disputes_submitted": 3,
    "disputes_closed_by_outcome": [{"key": "FOR_PROVIDER", "count": 1}, {"key": "FOR_RECIPIENT", "count": 1}],
    "disputes_implemented": 1,
    "median_days_to_close_dispute": 3.25,
    "suspensions_for_illegal_content": 1,
    "suspensions_for_unfounded_notices": None,
    "violating_decisions": 4,
    "automated_detection": 1,
    "automated_decisions": 1,
    "automated_decisions_qa_reviewed": 0,
    "automated_qa_error_rate_percent": None,
    "automated_decisions_appealed": 1,
    "automated_decisions_overturned": 0,
    "automated_appeal_error_rate_percent": 0.0,
    "human_resources": 8,
    "human_resources_by_language": [{"key": "DE", "count": 3}, {"key": "EN", "count": 5}],
    # March: DE 1,000, FR 500 (first stated as 400, then corrected); February's DE figure is outside
    "average_monthly_active_recipients": 1500,
    "average_monthly_active_recipients_by_member_state": [{"key": "DE", "count": 1000}, {"key": "FR", "count": 500}],
}


def _at(day: int, hour: float = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC) + timedelta(hours=hour)


class Month:
    """Runs domain services as the API would, each in its own unit of work at a fixed time."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def at(self, when: datetime, actor: Actor, work: Callable[[PostgresUnitOfWork], Awaitable[T]]) -> T:
        kind = "PARTNER" if actor.kind is ActorKind.TOKEN else actor.kind.value
        audit = AuditContext(actor_kind=kind, actor_id=actor.id, operation="seed", reason="transparency test")
        async with PostgresUnitOfWork(self.sessions, audit, clock=FixedClock(when)) as uow:
            return await work(uow)

    async def account(self, name: str, region: Region = Region.EU) -> uuid.UUID:
        cmd = UpsertAccount(region, name, AccountKind.CREATOR, name, name)
        return (await self.at(_at(1, month=1), PLATFORM, lambda u: upsert_account(u, PLATFORM, cmd))).id

    async def content(self, owner: uuid.UUID, name: str) -> uuid.UUID:
        cmd = UpsertContent(owner, name, ContentKind.VIDEO)
        return (await self.at(_at(1, month=1), PLATFORM, lambda u: upsert_content(u, PLATFORM, cmd))).id

    async def report(self, when: datetime, subject: uuid.UUID, policy: uuid.UUID, source: ReportSource) -> uuid.UUID:
        cmd = SubmitReport(SubjectKind.CONTENT, subject, policy, source)
        return (await self.at(when, PLATFORM, lambda u: submit_report(u, PLATFORM, cmd))).case_id

    async def decide(
        self, when: datetime, actor: Actor, case: uuid.UUID, policy: uuid.UUID, *actions: RequestedAction
    ) -> uuid.UUID:
        verdict = Verdict.VIOLATING if actions else Verdict.NOT_VIOLATING
        cmd = DecideCase(case, verdict, policy, "as reviewed", tuple(actions))
        return (await self.at(when, actor, lambda u: decide_case(u, actor, cmd))).decision.id

    async def appeal(self, filed: datetime, decided: datetime, decision: uuid.UUID, account: uuid.UUID,
                     outcome: AppealState) -> None:  # fmt: skip
        cmd = FileAppeal(decision, account, "I disagree")
        appeal = await self.at(filed, PLATFORM, lambda u: file_appeal(u, PLATFORM, cmd))
        verdict = DecideAppeal(appeal.id, outcome, "looked again")
        await self.at(decided, SENIOR, lambda u: decide_appeal(u, SENIOR, verdict))


async def _seed(db_url: str) -> dict[str, uuid.UUID]:
    """The month (times in March 2026 unless said otherwise); returns the decisions and cases by name."""
    engine = create_engine(db_url, pool_size=2)
    try:
        m = Month(create_session_factory(engine))
        admin = Actor(id="staff:admin", kind=ActorKind.STAFF, seniority=3)
        define = DefinePolicy("HATE_SPEECH", "Hate speech", Surface.CONTENT, Severity.HIGH, SPEECH, "No hate.")
        policy = (await m.at(_at(1, month=1), admin, lambda u: define_policy(u, admin, define))).policy.id
        a, b, c = [await m.account(name) for name in ("acct-a", "acct-b", "acct-c")]
        c1, c2, c3, c4, c5, c6 = [await m.content(a if n in (1, 2, 4, 6) else b if n == 3 else c, f"video-{n}")
                                  for n in range(1, 7)]  # fmt: skip
        removal, warn = RequestedAction(ActionKind.REMOVE_CONTENT), RequestedAction(ActionKind.WARN)
        # c1: a user's notice, then a trusted flagger's; removed with a warning (the ladder warns too); the
        # removal is appealed and overturned
        case1 = await m.report(_at(10), c1, policy, ReportSource.USER)
        await m.report(_at(10, 1), c1, policy, ReportSource.TRUSTED_FLAGGER)
        d1 = await m.decide(_at(10, 4), MOD, case1, policy, removal, warn)
        await m.appeal(_at(11, 4), _at(11, 10), d1, a, AppealState.OVERTURNED)
        # c2: a user's notice, found not violating
        case2 = await m.report(_at(12), c2, policy, ReportSource.USER)
        await m.decide(_at(12, 10), MOD, case2, policy)
        # c3: a classifier's report, removed by automation at once (the ladder warns); appealed and upheld
        case3 = await m.report(_at(13), c3, policy, ReportSource.AUTOMATED)
        d3 = await m.decide(_at(13), ROBOT, case3, policy, removal)
        await m.appeal(_at(14), _at(14, 2), d3, b, AppealState.UPHELD)
        # c4: a staff member's flag, age-restricted (the ladder warns: d1's strike was reversed)
        case4 = await m.report(_at(15), c4, policy, ReportSource.INTERNAL)
        d4 = await m.decide(_at(15, 8), MOD, case4, policy, RequestedAction(ActionKind.AGE_RESTRICT))
        # c5: a legal report; removed and demoted (one visibility restriction), the account suspended
        case5 = await m.report(_at(16), c5, policy, ReportSource.LEGAL)
        d5 = await m.decide(_at(16, 12), MOD, case5, policy, removal, RequestedAction(ActionKind.LIMIT_DISTRIBUTION),
                            RequestedAction(ActionKind.SUSPEND_ACCOUNT, 30))  # fmt: skip
        # outside the month or the region
        await m.report(_at(1, month=4), c6, policy, ReportSource.USER)
        us_video = await m.content(await m.account("acct-us", Region.US), "us-video")
        us_case = await m.report(_at(20), us_video, policy, ReportSource.USER)
        await m.decide(_at(20, 1), MOD, us_case, policy, removal)
    finally:
        await engine.dispose()
    return {"case1": case1, "d3": d3, "d4": d4, "d5": d5}


RECORD_ORDER = """mutation($input: RecordAuthorityOrderInput!) { recordAuthorityOrder(input: $input) {
  __typename ... on AuthorityOrderSuccess { order { id kind memberState category receivedAt case { id } } }
  ... on Error { code field message } } }"""
SETTLE_ORDER = """mutation($input: SettleAuthorityOrderInput!) { settleAuthorityOrder(input: $input) {
  __typename ... on AuthorityOrderSuccess { order { informedAt actedAt } } ... on Error { code field } } }"""
RECORD_DISPUTE = """mutation($input: RecordOutOfCourtDisputeInput!) { recordOutOfCourtDispute(input: $input) {
  __typename ... on OutOfCourtDisputeSuccess { dispute { id outcome } } ... on Error { code field } } }"""
CLOSE_DISPUTE = """mutation($input: CloseOutOfCourtDisputeInput!) { closeOutOfCourtDispute(input: $input) {
  __typename ... on OutOfCourtDisputeSuccess { dispute { outcome closedAt implemented } }
  ... on Error { code field } } }"""
RECIPIENTS = """mutation($input: RecordActiveRecipientsInput!) { recordActiveRecipients(input: $input) {
  __typename ... on RecordActiveRecipientsSuccess { recipients } ... on Error { code field } } }"""
ORDERS = "query { authorityOrders(first: 10) { nodes { memberState authority } } }"


def _gid(kind: str, raw: uuid.UUID) -> str:
    from api.graphql.ids import to_global_id

    return to_global_id(kind, raw)


async def _ok(gql: GraphQLClient, query: str, input: dict[str, Any], token: str, success: str) -> dict[str, Any]:
    body = await gql(query, {"input": input}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = next(iter(body["data"].values()))
    assert result["__typename"] == success, result
    return result


async def _record(gql: GraphQLClient, db_url: str, seeded: dict[str, uuid.UUID]) -> None:
    """The orders, disputes and monthly figures, through GraphQL (refusals first: they change nothing)."""
    legal = await issue_staff_token(db_url, "policy_manager", "EU")
    senior = await issue_staff_token(db_url, "senior_moderator", "EU")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "EU")
    order = {"region": "EU", "kind": "ACT_AGAINST_ILLEGAL_CONTENT", "memberState": "DE", "authority": "BNetzA",
             "category": SPEECH, "receivedAt": _at(2).isoformat()}  # fmt: skip
    refused = await gql(RECORD_ORDER, {"input": {**order, "receivedAt": "2999-01-01T00:00:00Z"}}, token=legal)
    assert refused["data"]["recordAuthorityOrder"]["field"] == "receivedAt"
    refused = await gql(RECORD_ORDER, {"input": {**order, "region": "US"}}, token=legal)
    assert refused["data"]["recordAuthorityOrder"]["code"] == "FORBIDDEN"
    moderator = await issue_staff_token(db_url, "moderator", "EU")
    assert (await gql(RECORD_ORDER, {"input": order}, token=moderator))["errors"][0]["extensions"][
        "code"
    ] == "FORBIDDEN"

    o1 = await _ok(gql, RECORD_ORDER, {**order, "caseId": _gid("Case", seeded["case1"]),
                   "informedAt": _at(2, 2).isoformat(), "actedAt": _at(2, 12).isoformat()}, legal,
                   "AuthorityOrderSuccess")  # fmt: skip
    assert o1["order"]["case"] == {"id": _gid("Case", seeded["case1"])}
    o2 = await _ok(gql, RECORD_ORDER, {**order, "memberState": "FR", "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
                   "receivedAt": _at(5).isoformat()}, legal, "AuthorityOrderSuccess")  # fmt: skip
    settle = {"orderId": o2["order"]["id"], "informedAt": _at(5, 6).isoformat(), "actedAt": _at(8).isoformat()}
    await _ok(gql, SETTLE_ORDER, settle, legal, "AuthorityOrderSuccess")
    again = await gql(SETTLE_ORDER, {"input": {**settle, "actedAt": _at(9).isoformat()}}, token=legal)
    assert again["data"]["settleAuthorityOrder"]["code"] == "INVALID_STATE"  # acted once, never moved
    await _ok(gql, RECORD_ORDER, {**order, "kind": "PROVIDE_INFORMATION", "receivedAt": _at(20).isoformat(),
              "informedAt": _at(20, 1).isoformat()}, legal, "AuthorityOrderSuccess")  # fmt: skip
    await _ok(gql, RECORD_ORDER, {**order, "receivedAt": _at(27, month=2).isoformat()}, legal,
              "AuthorityOrderSuccess")  # fmt: skip
    listed = await gql(ORDERS, token=await issue_staff_token(db_url, "analyst", "EU"))
    assert len(listed["data"]["authorityOrders"]["nodes"]) == 4
    us = await issue_staff_token(db_url, "analyst", "US")
    assert (await gql(ORDERS, token=us))["data"]["authorityOrders"]["nodes"] == []
    node = "query($id: ID!) { node(id: $id) { ... on AuthorityOrder { memberState authority } } }"
    found = await gql(node, {"id": o1["order"]["id"]}, token=legal)
    assert found["data"]["node"] == {"memberState": "DE", "authority": "BNetzA"}
    assert (await gql(node, {"id": o1["order"]["id"]}, token=us))["data"]["node"] is None

    for decision, submitted, closed, outcome, implemented in (
        ("d3", _at(20), _at(25), "FOR_PROVIDER", False),
        ("d5", _at(21), _at(22, 12), "FOR_RECIPIENT", True),
        ("d4", _at(28), None, None, False),
    ):
        given = {
            "decisionId": _gid("Decision", seeded[decision]),
            "body": "ODS Body",
            "submittedAt": submitted.isoformat(),
        }
        dispute = await _ok(gql, RECORD_DISPUTE, given, senior, "OutOfCourtDisputeSuccess")
        if closed is not None:
            close = {"disputeId": dispute["dispute"]["id"], "outcome": outcome, "closedAt": closed.isoformat(),
                     "implemented": implemented}  # fmt: skip
            await _ok(gql, CLOSE_DISPUTE, close, senior, "OutOfCourtDisputeSuccess")

    for year, month_, state, count in ((2026, 3, "DE", 1000), (2026, 3, "FR", 400), (2026, 3, "FR", 500),
                                       (2026, 2, "DE", 999)):  # fmt: skip
        figure = {"region": "EU", "year": year, "month": month_, "memberState": state, "recipients": count}
        await _ok(gql, RECIPIENTS, figure, platform, "RecordActiveRecipientsSuccess")
    refused = await gql(RECIPIENTS, {"input": {**figure, "recipients": -1}}, token=platform)
    assert refused["data"]["recordActiveRecipients"]["field"] == "recipients"


REPORT = """query($region: Region!, $from: DateTime!, $to: DateTime!) {
  transparencyReport(region: $region, from: $from, to: $to) {
    periodStart periodEnd ordersAct ordersActMedianHoursToAct notices noticesBySource { key count }
    restrictions restrictionsByType { key count } restrictionsByOrigin { key count } warnings
    ownInitiativeByDetection { key count } complaintsReceived medianHoursToDecideComplaint disputesSubmitted
    medianDaysToCloseDispute automatedDecisions automatedDecisionsAppealed averageMonthlyActiveRecipients
    suspensionsForIllegalContent suspensionsForUnfoundedNotices medianHoursNoticeToDecision
  } }"""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def _vigil(db_url: str, *args: str) -> str:
    env = {**os.environ, "VIGIL_DATABASE_URL": db_url}
    process = await asyncio.create_subprocess_exec(
        VIGIL, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_report_of_a_seeded_month_shows_its_true_figures_in_every_form(
    db_url: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    await _record(gql, db_url, await _seed(db_url))
    about = tmp_path / "about.json"
    about.write_text(json.dumps(ABOUT))
    window = ("--from", "2026-03-01", "--to", "2026-04-01", "--about", str(about))

    report = json.loads(await _vigil(db_url, "report", "transparency", *window))
    for name, value in EXPECTED.items():
        assert report[name] == value, name

    graph = await gql(REPORT, MARCH, token=await issue_staff_token(db_url, "analyst", "EU"))
    assert "errors" not in graph, graph
    for name, value in graph["data"]["transparencyReport"].items():
        snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
        assert value == report[snake], name

    rows = list(csv.DictReader(io.StringIO(await _vigil(db_url, "report", "transparency", *window, "--format", "csv"))))
    html = await _vigil(db_url, "report", "transparency", *window, "--format", "html")
    shown = _figures(html)
    for section in QUANTITATIVE:
        for item in section.items:
            value, found = report[item.name], [r for r in rows if r["field"] == item.name]
            assert {r["section"] for r in found} == {str(section.number)}, item.name
            if item.dimension is None:
                assert [r["value"] for r in found] == [cell(value)], item.name
                assert shown.get(item.name) == [cell(value)], item.name
            else:
                pairs = [(r["key"], int(r["value"])) for r in found]
                assert pairs == ([(x["key"], x["count"]) for x in value] or [("", 0)]), item.name
                assert shown.get(item.name, []) == [str(x["count"]) for x in value], item.name
    qualitative = await _vigil(db_url, "report", "transparency", *window, "--format", "qualitative")
    texts = {r["indicator"]: r["text"] for r in csv.DictReader(io.StringIO(qualitative))}
    assert texts == {key: ABOUT["qualitative"].get(key, "") for key, _ in QUALITATIVE}  # type: ignore[attr-defined]

    visible = unescape(re.sub(r"<[^>]+>", " ", html))  # the text a reader sees, not the attributes
    for label in ("Illegal or harmful speech", "Germany", "Own initiative", "Incompatible with the terms"):
        assert label in visible, label
    assert not re.search(r"STATEMENT_CATEGORY_|DECISION_GROUND_|TRUSTED_FLAGGER|OWN_INITIATIVE|REMOVE_CONTENT", visible)
    assert "2026-03-01 to 2026-03-31" in visible
    assert "Classifiers flag, people decide." in visible

    assert "<script" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)  # nothing loaded from elsewhere


async def test_headless_chromium_shows_the_pages_figures(tmp_path: Path) -> None:
    """The page as a browser renders it carries the same figures as the page's text (so as the JSON and CSV)."""
    figures = TransparencyFigures(region="EU", start=_at(1), end=_at(1, month=4), notices=3, restrictions=5)
    figures.notices_by_source = [Row("TRUSTED_FLAGGER", 1), Row("USER", 2)]
    figures.median_hours_notice_to_decision = 72.5
    html = render_html(report_document(figures.as_json(), About(provider_name="Example")))
    page = tmp_path / "report.html"
    page.write_text(html)
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it): the page was not rendered")
    rendered = _figures(await _render(page))
    assert rendered == _figures(html)
    assert rendered["notices_by_source"] == ["1", "2"]
    assert rendered["median_hours_notice_to_decision"] == ["72.5"]


async def _render(page: Path) -> str:
    """The page's DOM after headless Chromium has loaded it."""
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--dump-dom",
        page.as_uri(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()[-2000:]
    dom = out.decode()
    assert "<svg" in dom
    return dom


def _figures(dom: str) -> dict[str, list[str]]:
    """Every ``data-figure`` cell's text, by figure, in page order."""
    found: dict[str, list[str]] = {}
    for name, text in re.findall(r'data-figure="([a-z_]+)"[^>]*>([^<]*)<', dom):
        found.setdefault(name, []).append(unescape(text).strip())
    return found
