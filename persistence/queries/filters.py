"""What a list may be filtered by, in domain terms (the API parses ids and checks inputs before building these)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from domain.account import AccountKind, AccountStatus
from domain.ad import AdReviewStatus
from domain.appeal import AppealState
from domain.case import CaseState
from domain.content import ContentKind, Visibility
from domain.decision import Verdict
from domain.report import ReportSource
from domain.strike import StrikeStatus
from domain.subject import SubjectKind, Surface


@dataclass(frozen=True)
class PageRequest:
    """``regions``: the regions the reader may see (None: every region); ``after``: an opaque cursor."""

    first: int
    after: str | None
    regions: frozenset[str] | None


@dataclass(frozen=True)
class AccountFilter:
    status: AccountStatus | None = None
    kind: AccountKind | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class ContentFilter:
    visibility: Visibility | None = None
    kind: ContentKind | None = None
    owner_id: uuid.UUID | None = None


@dataclass(frozen=True)
class AdFilter:
    review_status: AdReviewStatus | None = None
    advertiser_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PolicyFilter:
    surface: Surface | None = None
    code: str | None = None


@dataclass(frozen=True)
class StrikeLadderFilter:
    surface: Surface | None = None


@dataclass(frozen=True)
class ReportFilter:
    case_id: uuid.UUID | None = None
    policy_id: uuid.UUID | None = None
    source: ReportSource | None = None
    reporter_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class CaseFilter:
    states: tuple[CaseState, ...] = ()
    surface: Surface | None = None
    subject_kind: SubjectKind | None = None
    """Given with ``subject_id`` (a global id names both): the two columns of the subjects' index, in its order."""
    subject_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    policy_id: uuid.UUID | None = None
    queue_id: uuid.UUID | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class DecisionFilter:
    verdict: Verdict | None = None
    policy_id: uuid.UUID | None = None
    decider_id: str | None = None
    decided_after: datetime | None = None
    decided_before: datetime | None = None


@dataclass(frozen=True)
class StrikeFilter:
    account_id: uuid.UUID | None = None
    policy_id: uuid.UUID | None = None
    status: StrikeStatus | None = None


@dataclass(frozen=True)
class AppealFilter:
    state: AppealState | None = None
    appellant_id: uuid.UUID | None = None
    queue_id: uuid.UUID | None = None
    filed_after: datetime | None = None
    filed_before: datetime | None = None
