"""Ad aggregate: a creative from an advertiser account, reviewed before it serves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import DomainError
from domain.region import Region


class AdReviewStatus(StrEnum):
    PENDING_REVIEW = "PENDING_REVIEW"
    APPROVED = "APPROVED"
    APPROVED_RESTRICTED = "APPROVED_RESTRICTED"
    REJECTED = "REJECTED"


@dataclass(kw_only=True)
class Ad:
    """Keyed by (region, external_id); region = the advertiser's region.

    ``review_status`` is derived (see ``domain.status.ad_status``) from ``reviewed_at``, ``restrictions`` and
    the REJECT_AD actions in force: an ad whose rejection is overturned becomes APPROVED.
    ``review_case_id`` is the ADS case opened on submit; ``reviewed_at`` is set when that case is decided.
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    advertiser_account_id: uuid.UUID
    external_id: str
    headline: str
    body: str
    landing_url: str
    media_refs: tuple[str, ...] = ()
    target_regions: tuple[Region, ...] = ()
    review_status: AdReviewStatus = AdReviewStatus.PENDING_REVIEW
    restrictions: str | None = None
    reviewed_at: datetime | None = None
    review_case_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def same_creative(
        self,
        *,
        headline: str,
        body: str,
        landing_url: str,
        media_refs: tuple[str, ...],
        target_regions: tuple[Region, ...],
    ) -> bool:
        mine = (self.headline, self.body, self.landing_url, self.media_refs, self.target_regions)
        return mine == (headline, body, landing_url, media_refs, target_regions)

    def ensure_reviewable(self) -> None:
        if self.review_status is not AdReviewStatus.PENDING_REVIEW:
            raise DomainError.invalid_state(
                f"only a PENDING_REVIEW ad can be reviewed (ad is {self.review_status.value})"
            )

    def mark_reviewed(self, restrictions: str | None, now: datetime) -> None:
        """Record the review outcome inputs; the status itself is then derived and set by ``set_status``."""
        self.ensure_reviewable()
        self.restrictions, self.reviewed_at, self.updated_at = restrictions, now, now

    def set_status(self, status: AdReviewStatus, now: datetime) -> bool:
        if self.review_status == status:
            return False
        self.review_status, self.updated_at = status, now
        return True
