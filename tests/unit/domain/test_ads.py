"""Rule 6: ads are reviewed before they serve."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest

from domain.account import Account, AccountKind, AccountStatus
from domain.ad import AdReviewStatus
from domain.case import CaseState
from domain.clock import FixedClock
from domain.decision import Verdict
from domain.enforcement import ActionKind, ActionSource, RequestedAction
from domain.errors import DomainError, ErrorCode
from domain.region import Region
from domain.services.ad import AdReviewOutcome, AdSubmission, ReviewAd, SubmitAd, review_ad, submit_ad
from domain.services.decision import DecideCase, decide_case
from domain.subject import SubjectKind, Surface
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork


def _ad_cmd(advertiser: Account, external_id: str = "ad-1", headline: str = "Miracle cure!") -> SubmitAd:
    return SubmitAd(
        advertiser_account_id=advertiser.id,
        external_id=external_id,
        headline=headline,
        body="Cures everything in 3 days.",
        landing_url="https://example.com/cure",
        target_regions=(Region.US, Region.EU),
        media_refs=("https://cdn.example.com/a.png",),
    )


async def _submitted(uow: FakeUnitOfWork, external_id: str = "ad-1") -> tuple[Account, AdSubmission]:
    advertiser = await b.account(uow, kind=AccountKind.ADVERTISER)
    return advertiser, await submit_ad(uow, b.PLATFORM, _ad_cmd(advertiser, external_id))


async def _ads_policy(uow: FakeUnitOfWork) -> uuid.UUID:
    return (await b.policy(uow, "MISLEADING_AD_CLAIMS", surface=Surface.ADS)).policy.id


def _reject(ad_id: uuid.UUID, policy_id: uuid.UUID | None) -> ReviewAd:
    return ReviewAd(
        ad_id=ad_id, outcome=AdReviewOutcome.REJECT, policy_id=policy_id, rationale="Unsupported health claim."
    )


async def test_submit_ad_waits_in_review_with_an_ads_case(uow: FakeUnitOfWork) -> None:
    advertiser, submitted = await _submitted(uow)

    assert submitted.ad.review_status is AdReviewStatus.PENDING_REVIEW
    assert submitted.ad.region is advertiser.region
    assert submitted.ad.review_case_id == submitted.case.id
    assert submitted.case.surface is Surface.ADS
    assert (submitted.case.subject_kind, submitted.case.subject_id) == (SubjectKind.AD, submitted.ad.id)
    assert submitted.case.subject_account_id == advertiser.id
    assert submitted.case.priority == 0
    assert submitted.case.report_count == 0
    assert submitted.case.state is CaseState.OPEN


async def test_resubmitting_same_creative_is_idempotent(uow: FakeUnitOfWork) -> None:
    advertiser, first = await _submitted(uow)
    before = uow.snapshot()
    again = await submit_ad(uow, b.PLATFORM, _ad_cmd(advertiser))
    assert again.ad is first.ad
    assert again.case is first.case
    assert uow.snapshot() == before


async def test_different_creative_under_used_external_id_conflicts(uow: FakeUnitOfWork) -> None:
    advertiser, _ = await _submitted(uow)
    with pytest.raises(DomainError) as raised:
        await submit_ad(uow, b.PLATFORM, _ad_cmd(advertiser, headline="Other"))
    assert (raised.value.code, raised.value.field) == (ErrorCode.CONFLICT, "externalId")


async def test_only_advertisers_submit_ads(uow: FakeUnitOfWork) -> None:
    creator = await b.account(uow)
    with pytest.raises(DomainError) as raised:
        await submit_ad(uow, b.PLATFORM, _ad_cmd(creator))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "advertiserAccountId")
    assert uow.ads.all() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"landing_url": "javascript:alert(1)"}, "landingUrl"),
        ({"landing_url": "https://x.com/" + "a" * 2048}, "landingUrl"),
        ({"headline": ""}, "headline"),
        ({"target_regions": ()}, "targetRegions"),
        ({"media_refs": ("",)}, "mediaRefs"),
    ],
)
async def test_ad_input_is_validated(uow: FakeUnitOfWork, change: dict[str, Any], field: str) -> None:
    advertiser = await b.account(uow, kind=AccountKind.ADVERTISER)
    cmd = dataclasses.replace(_ad_cmd(advertiser), **change)
    with pytest.raises(DomainError) as raised:
        await submit_ad(uow, b.PLATFORM, cmd)
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, field)


async def test_approve(uow: FakeUnitOfWork) -> None:
    _, submitted = await _submitted(uow)
    result = await review_ad(uow, b.MODERATOR, ReviewAd(ad_id=submitted.ad.id, outcome=AdReviewOutcome.APPROVE))

    assert result.ad.review_status is AdReviewStatus.APPROVED
    assert result.ad.reviewed_at == b.T0
    assert result.case.state is CaseState.DECIDED
    assert result.decision.verdict is Verdict.NOT_VIOLATING
    assert result.decision.policy_version_id is None
    assert result.strikes == ()


async def test_approve_with_restrictions_requires_text(uow: FakeUnitOfWork) -> None:
    _, submitted = await _submitted(uow)
    bare = ReviewAd(ad_id=submitted.ad.id, outcome=AdReviewOutcome.APPROVE_WITH_RESTRICTIONS)
    with pytest.raises(DomainError) as raised:
        await review_ad(uow, b.MODERATOR, bare)
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "restrictions")
    assert submitted.ad.review_status is AdReviewStatus.PENDING_REVIEW

    restricted = ReviewAd(
        ad_id=submitted.ad.id, outcome=AdReviewOutcome.APPROVE_WITH_RESTRICTIONS, restrictions="Adults only."
    )
    result = await review_ad(uow, b.MODERATOR, restricted)
    assert result.ad.review_status is AdReviewStatus.APPROVED_RESTRICTED
    assert result.ad.restrictions == "Adults only."


async def test_plain_approve_refuses_restrictions(uow: FakeUnitOfWork) -> None:
    _, submitted = await _submitted(uow)
    cmd = ReviewAd(ad_id=submitted.ad.id, outcome=AdReviewOutcome.APPROVE, restrictions="x")
    with pytest.raises(DomainError) as raised:
        await review_ad(uow, b.MODERATOR, cmd)
    assert raised.value.field == "restrictions"


async def test_reject_strikes_the_advertiser_on_the_ads_ladder(uow: FakeUnitOfWork) -> None:
    advertiser, submitted = await _submitted(uow)
    policy_id = await _ads_policy(uow)

    result = await review_ad(uow, b.MODERATOR, _reject(submitted.ad.id, policy_id))

    assert result.ad.review_status is AdReviewStatus.REJECTED
    assert result.decision.verdict is Verdict.VIOLATING
    assert result.decision.policy_id == policy_id
    assert [(s.account_id, s.surface) for s in result.strikes] == [(advertiser.id, Surface.ADS)]
    assert {(a.kind, a.source) for a in result.actions} == {
        (ActionKind.REJECT_AD, ActionSource.DECISION),
        (ActionKind.WARN, ActionSource.LADDER),
    }


async def test_second_rejection_holds_ads(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    advertiser, first = await _submitted(uow, "ad-1")
    second = await submit_ad(uow, b.PLATFORM, _ad_cmd(advertiser, "ad-2"))
    policy_id = await _ads_policy(uow)
    await review_ad(uow, b.MODERATOR, _reject(first.ad.id, policy_id))
    clock.advance(timedelta(hours=1))

    result = await review_ad(uow, b.MODERATOR, _reject(second.ad.id, policy_id))

    hold = next(a for a in result.actions if a.source is ActionSource.LADDER)
    assert (hold.kind, hold.duration) == (ActionKind.HOLD_ADS, timedelta(days=3))
    assert advertiser.status is AccountStatus.RESTRICTED


async def test_reject_needs_an_ads_policy(uow: FakeUnitOfWork) -> None:
    _, submitted = await _submitted(uow)
    content_policy = (await b.policy(uow)).policy.id
    before = uow.snapshot()
    with pytest.raises(DomainError) as no_policy:
        await review_ad(uow, b.MODERATOR, _reject(submitted.ad.id, None))
    with pytest.raises(DomainError) as wrong_surface:
        await review_ad(uow, b.MODERATOR, _reject(submitted.ad.id, content_policy))
    assert (no_policy.value.code, no_policy.value.field) == (ErrorCode.INVALID_INPUT, "policyId")
    assert (wrong_surface.value.code, wrong_surface.value.field) == (ErrorCode.INVALID_INPUT, "policyId")
    assert uow.snapshot() == before


async def test_only_pending_ads_can_be_reviewed(uow: FakeUnitOfWork) -> None:
    _, submitted = await _submitted(uow)
    await review_ad(uow, b.MODERATOR, ReviewAd(ad_id=submitted.ad.id, outcome=AdReviewOutcome.APPROVE))
    before = uow.snapshot()
    with pytest.raises(DomainError) as raised:
        await review_ad(uow, b.MODERATOR, ReviewAd(ad_id=submitted.ad.id, outcome=AdReviewOutcome.APPROVE))
    assert raised.value.code is ErrorCode.INVALID_STATE
    assert uow.snapshot() == before


async def test_unknown_ad(uow: FakeUnitOfWork) -> None:
    with pytest.raises(DomainError) as raised:
        await review_ad(uow, b.MODERATOR, ReviewAd(ad_id=uuid.uuid4(), outcome=AdReviewOutcome.APPROVE))
    assert (raised.value.code, raised.value.field) == (ErrorCode.NOT_FOUND, "adId")


async def test_reports_on_pending_ad_fold_into_review_case(uow: FakeUnitOfWork) -> None:
    _, submitted = await _submitted(uow)
    policy_id = await _ads_policy(uow)
    filed = await b.report(uow, SubjectKind.AD, submitted.ad.id, policy_id)
    assert filed.case_id == submitted.case.id
    assert submitted.case.report_count == 1
    assert submitted.case.priority > 0


async def test_review_case_of_pending_ad_is_decided_via_review_ad_only(uow: FakeUnitOfWork) -> None:
    _, submitted = await _submitted(uow)
    policy_id = await _ads_policy(uow)
    cmd = DecideCase(case_id=submitted.case.id, verdict=Verdict.VIOLATING, policy_id=policy_id, rationale="r")
    with pytest.raises(DomainError) as raised:
        await decide_case(uow, b.MODERATOR, cmd)
    assert raised.value.code is ErrorCode.INVALID_STATE
    assert submitted.case.state is CaseState.OPEN


async def test_approved_ad_reported_later_can_be_rejected_by_a_case_decision(uow: FakeUnitOfWork) -> None:
    _, submitted = await _submitted(uow)
    await review_ad(uow, b.MODERATOR, ReviewAd(ad_id=submitted.ad.id, outcome=AdReviewOutcome.APPROVE))
    policy_id = await _ads_policy(uow)
    filed = await b.report(uow, SubjectKind.AD, submitted.ad.id, policy_id)
    cmd = DecideCase(
        case_id=filed.case_id,
        verdict=Verdict.VIOLATING,
        policy_id=policy_id,
        rationale="Claims turned out false.",
        actions=(RequestedAction(ActionKind.REJECT_AD),),
    )
    await decide_case(uow, b.MODERATOR, cmd)
    assert submitted.ad.review_status is AdReviewStatus.REJECTED
