"""JOURNEYS.md 1, 3 and 4 played through the domain services."""

from __future__ import annotations

from datetime import timedelta

from domain.account import AccountKind, AccountStatus
from domain.ad import AdReviewStatus
from domain.appeal import AppealState
from domain.case import CaseState
from domain.clock import FixedClock
from domain.content import Visibility
from domain.decision import Verdict
from domain.enforcement import ActionKind, ActionSource, RequestedAction
from domain.errors import DomainError
from domain.policy import Severity
from domain.region import Region
from domain.report import ReportSource
from domain.services.ad import AdReviewOutcome, ReviewAd, SubmitAd, review_ad, submit_ad
from domain.services.appeal import DecideAppeal, FileAppeal, decide_appeal, file_appeal
from domain.services.case import ClaimCase, claim_case
from domain.services.decision import DecideCase, decide_case
from domain.services.report import SubmitReport, submit_reports
from domain.strike import StrikeStatus
from domain.subject import SubjectKind, Surface
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork


async def test_mass_report_wave(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    creator = await b.account(uow, region=Region.US)
    video = await b.content(uow, creator, reach=2_000_000)
    hate = await b.policy(uow, severity=Severity.HIGH)
    for n in range(300):
        key = f"r-{n}"
        await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, actor=b.reporter(n), key=key)
        if n % 3 == 0:  # flaky client retries
            await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, actor=b.reporter(n), key=key)
        clock.advance(timedelta(seconds=1))

    (case,) = uow.cases.all()
    assert case.report_count == 300
    assert len(uow.reports.for_case(case.id)) == 300
    assert case.priority == 40 + 20 + 0 + 15
    assert case.sla_due_at == case.created_at + timedelta(hours=12)

    await claim_case(uow, b.MODERATOR, ClaimCase(case_id=case.id))
    cmd = DecideCase(
        case_id=case.id,
        verdict=Verdict.VIOLATING,
        policy_id=hate.policy.id,
        rationale="Slur-laden attack on a protected group.",
        actions=(RequestedAction(ActionKind.REMOVE_CONTENT),),
    )
    result = await decide_case(uow, b.MODERATOR, cmd)

    assert case.state is CaseState.DECIDED
    assert video.visibility is Visibility.REMOVED
    assert result.decision.policy_version_id == hate.version.id
    assert [s.account_id for s in uow.strikes.all()] == [creator.id]


async def test_trusted_flagger_batch_retry(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow, region=Region.EU)
    hate = await b.policy(uow)
    videos = [await b.content(uow, owner) for _ in range(100)]
    batch = [
        SubmitReport(
            subject_kind=SubjectKind.CONTENT,
            subject_id=v.id,
            policy_id=hate.policy.id,
            source=ReportSource.TRUSTED_FLAGGER,
            idempotency_key=f"tf-{i}",
        )
        for i, v in enumerate(videos)
    ]
    first = await submit_reports(uow, b.FLAGGER, batch)
    second = await submit_reports(uow, b.FLAGGER, batch)
    assert not any(isinstance(r, DomainError) for r in [*first, *second])
    assert len(uow.reports.all()) == 100
    assert {r.region for r in uow.reports.all()} == {Region.EU}


async def test_ad_before_it_serves(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    advertiser = await b.account(uow, kind=AccountKind.ADVERTISER)
    claims = await b.policy(uow, "MISLEADING_AD_CLAIMS", surface=Surface.ADS, severity=Severity.MEDIUM)
    submitted = await submit_ad(
        uow,
        b.PLATFORM,
        SubmitAd(
            advertiser_account_id=advertiser.id,
            external_id="ad-cure",
            headline="Miracle cure",
            body="Cures all disease.",
            landing_url="https://cure.example",
            target_regions=(Region.US,),
        ),
    )
    assert submitted.ad.review_status is AdReviewStatus.PENDING_REVIEW

    reject = ReviewAd(
        ad_id=submitted.ad.id,
        outcome=AdReviewOutcome.REJECT,
        policy_id=claims.policy.id,
        rationale="Unsubstantiated medical claim.",
    )
    reviewed = await review_ad(uow, b.MODERATOR, reject)
    assert reviewed.ad.review_status is AdReviewStatus.REJECTED
    clock.advance(timedelta(days=3))

    appeal = await file_appeal(
        uow,
        b.PLATFORM,
        FileAppeal(decision_id=reviewed.decision.id, appellant_account_id=advertiser.id, statement="Lab-tested."),
    )
    overturn = DecideAppeal(appeal_id=appeal.id, outcome=AppealState.OVERTURNED, rationale="Claims are backed.")
    await decide_appeal(uow, b.SENIOR, overturn)

    ad = await uow.ads.get(submitted.ad.id)
    assert ad is not None
    assert ad.review_status is AdReviewStatus.APPROVED
    assert reviewed.strikes[0].status is StrikeStatus.REVERSED
    assert advertiser.status is AccountStatus.ACTIVE


async def test_repeat_offender(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    creator = await b.account(uow)
    hate = await b.policy(uow)
    results = []
    for _ in range(3):
        results.append(await b.violate(uow, await b.content(uow, creator), hate.policy.id))
        clock.advance(timedelta(days=2))
    ladder = [[a.kind for a in r.actions if a.source is ActionSource.LADDER] for r in results]
    assert ladder == [[ActionKind.WARN], [ActionKind.RESTRICT_FEATURES], [ActionKind.BAN_ACCOUNT]]
    assert creator.status is AccountStatus.BANNED

    appeal = await file_appeal(
        uow,
        b.PLATFORM,
        FileAppeal(decision_id=results[2].decision.id, appellant_account_id=creator.id, statement="Wrong clip."),
    )
    overturn = DecideAppeal(appeal_id=appeal.id, outcome=AppealState.OVERTURNED, rationale="Misidentified.")
    await decide_appeal(uow, b.SENIOR, overturn)
    # restriction from day 2 runs to day 9; now is day 6: it is still in force
    after_appeal = await uow.accounts.get(creator.id)
    assert after_appeal is not None
    assert after_appeal.status is AccountStatus.RESTRICTED
    assert after_appeal.status_until == b.T0 + timedelta(days=9)

    clock.set(b.T0 + timedelta(days=2 + 90))  # both remaining strikes have expired
    fourth = await b.violate(uow, await b.content(uow, creator), hate.policy.id)
    assert [a.kind for a in fourth.actions if a.source is ActionSource.LADDER] == [ActionKind.WARN]
    later = await uow.accounts.get(creator.id)
    assert later is not None
    assert later.status is AccountStatus.ACTIVE  # the restriction has long ended
