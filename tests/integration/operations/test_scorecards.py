"""Scorecards in moderationMetrics: per moderator and per vendor, human decisions made and QA reviews agreed; a
moderator's row names their vendor, and their display name only for callers who may read staff (tokens:read in
the region)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import SUBMIT_QA, define_queue
from tests.integration.operations.test_vendor_attribution import ISSUE_STAFF
from tests.integration.tokens import issue_partner_token, issue_staff_token

CARDS = """
query($region: Region!, $from: DateTime!, $to: DateTime!) {
  moderationMetrics(region: $region, from: $from, to: $to) {
    qaAgreementByModerator { key vendor moderatorName decisions reviews agreed }
    qaAgreementByVendor { key vendor moderatorName decisions reviews agreed } } }"""


async def _cards(gql: GraphQLClient, token: str, start: datetime) -> dict[str, Any]:
    window = {"region": "US", "from": start.isoformat(), "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}
    body = await gql(CARDS, window, token=token)
    assert "errors" not in body, body
    metrics: dict[str, Any] = body["data"]["moderationMetrics"]
    return metrics


def _without_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in r.items() if k != "key"} for r in rows), key=lambda r: str(r["vendor"]))


async def test_scorecards_by_moderator_and_vendor(db_url: str, gql: GraphQLClient) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    qa = await issue_staff_token(db_url, "qa_reviewer", "US")
    analyst = await issue_staff_token(db_url, "analyst", "US")  # metrics:read, may not read staff
    mod = await issue_staff_token(db_url, "moderator", "US")
    body = await gql(
        ISSUE_STAFF,
        {"input": {"name": "vendor-b-1", "role": "vendor_moderator", "region": "US", "vendorOrg": "vendor-b"}},
        token=admin,
    )
    vendor = flows.ok(body, "issueStaffToken", "IssueApiTokenSuccess")["secret"]
    await define_queue(gql, admin, "us-scorecards", isDefault=True, qaSampleRate=1.0)
    start = datetime.now(UTC) - timedelta(minutes=1)
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    owner = await flows.account(gql, platform, "scorecards")
    for n, (decider, reviewed) in enumerate(((vendor, True), (vendor, True), (vendor, False), (mod, True))):
        video = await flows.content(gql, platform, owner, f"scorecard-video-{n}")
        case_id = (await flows.report(gql, platform, video, hate))["case"]["id"]
        decided = await flows.decide(gql, decider, case_id, hate, verdict="NOT_VIOLATING")
        assert decided["__typename"] == "DecideCaseSuccess", decided
        if reviewed:
            done = await gql(SUBMIT_QA, {"input": {"caseId": case_id, "agrees": True}}, token=qa)
            assert done["data"]["submitQaReview"]["__typename"] == "SubmitQaReviewSuccess", done

    hidden = await _cards(gql, analyst, start)
    assert _without_keys(hidden["qaAgreementByModerator"]) == [
        {"vendor": "in-house", "moderatorName": None, "decisions": 1, "reviews": 1, "agreed": 1},
        {"vendor": "vendor-b", "moderatorName": None, "decisions": 3, "reviews": 2, "agreed": 2},
    ]
    by_vendor = {r["key"]: (r["decisions"], r["reviews"], r["agreed"]) for r in hidden["qaAgreementByVendor"]}
    assert by_vendor == {"in-house": (1, 1, 1), "vendor-b": (3, 2, 2)}
    assert all(r["vendor"] is None and r["moderatorName"] is None for r in hidden["qaAgreementByVendor"])

    shown = await _cards(gql, admin, start)  # tokens:read everywhere: may read staff
    names = {r["vendor"]: r["moderatorName"] for r in shown["qaAgreementByModerator"]}
    assert names == {"in-house": "moderator-US", "vendor-b": "vendor-b-1"}
    assert [r["key"] for r in shown["qaAgreementByModerator"]] == [r["key"] for r in hidden["qaAgreementByModerator"]]

    # tokens:read in another region only: the US scorecards keep their names hidden
    elsewhere = await issue_staff_token(db_url, "analyst", "US", name="analyst-and-eu-auditor")
    await issue_staff_token(db_url, "auditor", "EU", name="analyst-and-eu-auditor")
    assert {r["moderatorName"] for r in (await _cards(gql, elsewhere, start))["qaAgreementByModerator"]} == {None}
