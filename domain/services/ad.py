"""Ads: submission (opens an ADS review case) and review (decides it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from domain import limits
from domain.account import AccountKind
from domain.actor import Actor
from domain.ad import Ad
from domain.case import Case
from domain.config import DEFAULT_CONFIG, DomainConfig
from domain.decision import Decision, Verdict
from domain.enforcement import ActionKind, EnforcementAction, RequestedAction
from domain.errors import DomainError
from domain.policy import Policy, PolicyVersion
from domain.ports import UnitOfWork
from domain.region import Region
from domain.services.case import get_case
from domain.services.enforcement import record_decision
from domain.services.policy import policy_in_force
from domain.services.queue import open_routed_case
from domain.strike import Strike
from domain.subject import Subject, SubjectKind, ensure_policy_applies


async def get_ad(uow: UnitOfWork, ad_id: uuid.UUID, *, field: str = "adId") -> Ad:
    ad = await uow.ads.get(ad_id)
    if ad is None:
        raise DomainError.not_found(f"ad {ad_id} not found", field)
    return ad


def ad_subject(ad: Ad) -> Subject:
    return Subject(kind=SubjectKind.AD, id=ad.id, region=ad.region, owner_account_id=ad.advertiser_account_id)


@dataclass(frozen=True)
class SubmitAd:
    advertiser_account_id: uuid.UUID
    external_id: str
    headline: str
    body: str
    landing_url: str
    target_regions: tuple[Region, ...]
    media_refs: tuple[str, ...] = ()

    def validate(self) -> None:
        limits.text(self.external_id, field="externalId", max_len=limits.NAME_MAX)
        limits.text(self.headline, field="headline", max_len=limits.NAME_MAX)
        limits.text(self.body, field="body", max_len=limits.TEXT_MAX)
        limits.url(self.landing_url, field="landingUrl")
        limits.items(self.media_refs, field="mediaRefs", max_items=limits.MEDIA_REFS_MAX, max_len=limits.URL_MAX)
        if not self.target_regions or len(set(self.target_regions)) != len(self.target_regions):
            raise DomainError.invalid_input("targetRegions must be non-empty and without repeats", "targetRegions")


@dataclass(frozen=True)
class AdSubmission:
    ad: Ad
    case: Case


async def submit_ad(
    uow: UnitOfWork, actor: Actor, cmd: SubmitAd, config: DomainConfig = DEFAULT_CONFIG
) -> AdSubmission:
    """New ad → PENDING_REVIEW plus an ADS case. Resubmitting the same creative under the same external id
    returns the first submission; a different creative under a used external id is a CONFLICT."""
    cmd.validate()
    advertiser = await uow.accounts.get(cmd.advertiser_account_id)
    if advertiser is None:
        raise DomainError.not_found(f"account {cmd.advertiser_account_id} not found", "advertiserAccountId")
    if advertiser.kind is not AccountKind.ADVERTISER:
        raise DomainError.invalid_input("ads come from ADVERTISER accounts", "advertiserAccountId")
    existing = await uow.ads.get_by_external_id(advertiser.region, cmd.external_id)
    if existing is not None:
        return await _resubmission(uow, existing, cmd)
    now = uow.clock.now()
    ad = Ad(
        region=advertiser.region,
        advertiser_account_id=advertiser.id,
        external_id=cmd.external_id,
        headline=cmd.headline,
        body=cmd.body,
        landing_url=cmd.landing_url,
        media_refs=cmd.media_refs,
        target_regions=cmd.target_regions,
        created_at=now,
        updated_at=now,
    )
    case = await open_routed_case(uow, ad_subject(ad), None, now, config)  # into the ads-review queue
    ad.review_case_id = case.id
    uow.ads.add(ad)
    uow.cases.add(case)
    return AdSubmission(ad, case)


async def _resubmission(uow: UnitOfWork, ad: Ad, cmd: SubmitAd) -> AdSubmission:
    same = ad.same_creative(
        headline=cmd.headline,
        body=cmd.body,
        landing_url=cmd.landing_url,
        media_refs=cmd.media_refs,
        target_regions=cmd.target_regions,
    )
    if not same or ad.advertiser_account_id != cmd.advertiser_account_id or ad.review_case_id is None:
        raise DomainError.conflict(f"an ad with external id {cmd.external_id} already exists", "externalId")
    return AdSubmission(ad, await get_case(uow, ad.review_case_id))


class AdReviewOutcome(StrEnum):
    APPROVE = "APPROVE"
    APPROVE_WITH_RESTRICTIONS = "APPROVE_WITH_RESTRICTIONS"
    REJECT = "REJECT"


@dataclass(frozen=True)
class ReviewAd:
    """REJECT needs ``policy_id`` (an ADS policy) and a rationale; APPROVE_WITH_RESTRICTIONS needs
    ``restrictions``. Approvals may cite a policy and give a rationale."""

    ad_id: uuid.UUID
    outcome: AdReviewOutcome
    rationale: str = ""
    policy_id: uuid.UUID | None = None
    restrictions: str | None = None

    def validate(self) -> None:
        limits.optional_text(self.rationale, field="rationale", max_len=limits.RATIONALE_MAX)
        if self.outcome is AdReviewOutcome.REJECT:
            limits.text(self.rationale, field="rationale", max_len=limits.RATIONALE_MAX)
            if self.policy_id is None:
                raise DomainError.invalid_input("a rejection must cite an ADS policy", "policyId")
        if self.outcome is AdReviewOutcome.APPROVE_WITH_RESTRICTIONS:
            limits.text(self.restrictions or "", field="restrictions", max_len=limits.RATIONALE_MAX)
        elif self.restrictions is not None:
            raise DomainError.invalid_input("restrictions only with APPROVE_WITH_RESTRICTIONS", "restrictions")


@dataclass(frozen=True)
class AdReviewResult:
    ad: Ad
    case: Case
    decision: Decision
    actions: tuple[EnforcementAction, ...]
    strikes: tuple[Strike, ...]


async def _cited(uow: UnitOfWork, policy_id: uuid.UUID | None) -> tuple[Policy, PolicyVersion] | None:
    if policy_id is None:
        return None
    policy, version = await policy_in_force(uow, policy_id)
    ensure_policy_applies(SubjectKind.AD, policy.surface)
    return policy, version


async def review_ad(
    uow: UnitOfWork, actor: Actor, cmd: ReviewAd, config: DomainConfig = DEFAULT_CONFIG
) -> AdReviewResult:
    """Decide a PENDING_REVIEW ad's review case: approve (NOT_VIOLATING) or reject (VIOLATING + REJECT_AD)."""
    cmd.validate()
    now = uow.clock.now()
    ad = await get_ad(uow, cmd.ad_id)
    ad.ensure_reviewable()
    if ad.review_case_id is None:
        raise DomainError.invalid_state("ad has no review case", "adId")
    case = await get_case(uow, ad.review_case_id, field="adId")
    case.ensure_decidable_by(actor, now)
    cited = await _cited(uow, cmd.policy_id)
    rejected = cmd.outcome is AdReviewOutcome.REJECT
    decision = Decision.record(
        case=case,
        actor=actor,
        verdict=Verdict.VIOLATING if rejected else Verdict.NOT_VIOLATING,
        policy_id=cited[0].id if cited else None,
        policy_version_id=cited[1].id if cited else None,
        rationale=cmd.rationale,
        now=now,
    )
    ad.mark_reviewed(cmd.restrictions, now)
    requested = (RequestedAction(ActionKind.REJECT_AD),) if rejected else ()
    enforced = await record_decision(
        uow,
        actor,
        case=case,
        subject=ad_subject(ad),
        decision=decision,
        cited=cited,
        requested=requested,
        config=config,
    )
    return AdReviewResult(ad, case, decision, enforced.actions, enforced.strikes)
