"""The domain's enums, exposed to GraphQL (registered once, here): under their domain names, and the DSA
statement's submission state, which metrics and statements both show."""

from __future__ import annotations

import strawberry

from domain.account import AccountKind, AccountStatus
from domain.actor import ActorKind
from domain.ad import AdReviewStatus
from domain.appeal import AppealState
from domain.bulk import BulkItemState, BulkJobState
from domain.case import CaseState
from domain.content import ContentKind, Visibility
from domain.decision import Verdict
from domain.dsa.statement import SubmissionState
from domain.enforcement import ActionKind, ActionSource
from domain.errors import ErrorCode
from domain.outbox.webhook import DeliveryState
from domain.policy import Severity
from domain.region import Region
from domain.report import ReportSource
from domain.services.ad import AdReviewOutcome
from domain.strike import StrikeStatus
from domain.subject import SubjectKind, Surface

ENUMS = (
    (Region, "Where a record's data belongs."),
    (ErrorCode, None),  # undescribed in schema.graphql: the `Error` interface used to register it first
    (AccountKind, None),
    (AccountStatus, "Derived from the enforcement actions in force."),
    (ActorKind, "Who acted: staff, a partner token, an automation rule or the system."),
    (AdReviewStatus, "Ads are reviewed before they serve."),
    (AdReviewOutcome, None),
    (AppealState, None),
    (CaseState, "OPEN → ASSIGNED → DECIDED → CLOSED, with ESCALATED between."),
    (ContentKind, None),
    (Visibility, "Derived from the enforcement actions in force."),
    (Verdict, None),
    (ActionKind, None),
    (ActionSource, "DECISION: asked for by the decider; LADDER: applied by the strike ladder."),
    (Severity, None),
    (ReportSource, None),
    (StrikeStatus, "EXPIRED is computed from the clock; no job flips it."),
    (SubjectKind, None),
    (Surface, None),
    (BulkJobState, "RUNNING until every item is done (COMPLETED) or the job is CANCELLED."),
    (BulkItemState, "PENDING until its chunk runs; CANCELLED when the job was cancelled first."),
    (DeliveryState, "PENDING: being tried (with backoff); DELIVERED: answered 2xx; DEAD: every try failed."),
)

for _enum, _description in ENUMS:
    strawberry.enum(_enum, description=_description)
strawberry.enum(
    SubmissionState,
    name="StatementSubmissionState",
    description="Where the statement's submission to the database stands.",
)
