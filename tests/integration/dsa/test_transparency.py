"""The transparency report: the figures of a known period, the same in GraphQL and in `vigil report transparency`
(JSON), and the HTML page rendered by headless Chromium showing exactly the JSON's figures."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.transparency_html import BREAKDOWNS, TOTALS, _value
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.tokens import issue_partner_token, issue_staff_token

VIGIL = str(Path(sys.executable).parent / "vigil")
CHROMIUM = "/usr/bin/chromium"
ROWS = "key count"
REPORT = f"""query($region: Region!, $from: DateTime!, $to: DateTime!) {{
  transparencyReport(region: $region, from: $from, to: $to) {{
    notices noticesByCategory {{ {ROWS} }} noticesBySource {{ {ROWS} }} noticesByMemberState {{ {ROWS} }}
    actions actionsByType {{ {ROWS} }} actionsByGround {{ {ROWS} }} actionsByCategory {{ {ROWS} }}
    violatingDecisions automatedDetectionPercent automatedDecisionPercent medianNoticeToActionSeconds
    complaintsReceived complaintsDecided complaintsOverturned medianComplaintDecisionSeconds
    trustedFlaggerNotices trustedFlaggerNoticesByCategory {{ {ROWS} }} trustedFlaggerMedianNoticeToActionSeconds
  }} }}"""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def _period(db_url: str, gql: GraphQLClient) -> dict[str, str]:
    """One EU period: a trusted flagger's notice acted on (then appealed and overturned), two user notices on a
    video found not violating, and a US notice that stays out of the EU report."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    flagger = await issue_partner_token(db_url, "flagger-eu", ["trusted_flagger"], "EU")
    admin = await issue_staff_token(db_url, "admin", "*")
    mod = await issue_staff_token(db_url, "moderator", "EU")
    senior = await issue_staff_token(db_url, "senior_moderator", "EU")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    creator = await flows.account(gql, platform, "eu-report-creator", region="EU")
    flagged = await flows.content(gql, platform, creator, "eu-report-flagged")
    fine = await flows.content(gql, platform, creator, "eu-report-fine")
    await flows.report(gql, flagger, flagged, hate, source="TRUSTED_FLAGGER")
    first = await flows.report(gql, platform, flagged, hate)
    decided = await flows.decide(gql, mod, first["case"]["id"], hate, actions=[{"kind": "REMOVE_CONTENT"}])
    for key in ("a", "b"):
        case = await flows.report(gql, platform, fine, hate, key=key)
    await flows.decide(gql, mod, case["case"]["id"], hate, verdict="NOT_VIOLATING")
    appeal = await flows.file_appeal(gql, platform, decided["decision"]["id"], creator)
    overturned = await flows.decide_appeal(gql, senior, appeal["appeal"]["id"], "OVERTURNED")
    assert overturned["__typename"] == "DecideAppealSuccess", overturned
    us_creator = await flows.account(gql, platform, "us-report-creator")
    await flows.report(gql, platform, await flows.content(gql, platform, us_creator, "us-video"), hate)
    end = datetime.now(UTC) + timedelta(minutes=1)
    return {"region": "EU", "from": start.isoformat(), "to": end.isoformat()}


async def _vigil(db_url: str, *args: str) -> str:
    env = {**os.environ, "VIGIL_DATABASE_URL": db_url}
    process = await asyncio.create_subprocess_exec(
        VIGIL, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_report_shows_the_periods_figures_everywhere_alike(
    db_url: str, gql: GraphQLClient, tmp_path: Path
) -> None:
    window = await _period(db_url, gql)
    analyst = await issue_staff_token(db_url, "analyst", "EU")
    body = await gql(REPORT, window, token=analyst)
    assert "errors" not in body, body
    graph = body["data"]["transparencyReport"]
    assert graph["notices"] == 4
    assert graph["noticesBySource"] == [{"key": "TRUSTED_FLAGGER", "count": 1}, {"key": "USER", "count": 3}]
    assert graph["noticesByCategory"] == [{"key": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "count": 4}]
    assert graph["noticesByMemberState"] == [{"key": "UNKNOWN", "count": 4}]
    assert {"key": "REMOVE_CONTENT", "count": 1} in graph["actionsByType"]
    assert graph["actionsByGround"] == [{"key": "DECISION_GROUND_INCOMPATIBLE_CONTENT", "count": graph["actions"]}]
    assert graph["violatingDecisions"] == 1
    assert (graph["automatedDetectionPercent"], graph["automatedDecisionPercent"]) == (0.0, 0.0)
    assert graph["medianNoticeToActionSeconds"] >= 0
    assert (graph["complaintsReceived"], graph["complaintsDecided"], graph["complaintsOverturned"]) == (1, 1, 1)
    assert graph["medianComplaintDecisionSeconds"] >= 0
    assert graph["trustedFlaggerNotices"] == 1
    assert graph["trustedFlaggerMedianNoticeToActionSeconds"] >= 0
    us_only = await gql(REPORT, window, token=await issue_staff_token(db_url, "analyst", "US"))
    assert us_only["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    report = json.loads(await _vigil(db_url, "report", "transparency", "--from", window["from"], "--to", window["to"]))
    for name, value in report.items():
        if _camel(name) in graph:
            assert graph[_camel(name)] == value, name
    assert report["automated_detection"] == report["automated_decisions"] == 0

    page = tmp_path / "report.html"
    await _vigil(db_url, "report", "transparency", "--from", window["from"], "--to", window["to"],
                 "--format", "html", "--output", str(page))  # fmt: skip
    html = page.read_text()
    assert "<script" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)  # nothing loaded from elsewhere
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it): the page was not rendered")
    dom = await _render(page)
    shown = _figures(dom)
    for name, _ in TOTALS:
        assert shown[name] == [_value(report[name])], name
    for name, _ in BREAKDOWNS:
        assert shown.get(name, []) == [str(row["count"]) for row in report[name]], name
        assert (f'data-chart="{name}"' in dom) is bool(report[name]), name


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
        found.setdefault(name, []).append(text.strip())
    return found
