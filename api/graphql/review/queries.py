"""Review's root fields: `cases`, `decisions` and `strikes`, each a filtered connection in your regions."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from api.graphql.context import Info
from api.graphql.ids import parse_any, parse_id
from api.graphql.lookahead import prime_cases
from api.graphql.permissions import requires
from api.graphql.review.types import Case, Decision, Strike
from api.graphql.shared.common import Connection
from api.graphql.shared.listing import input_errors, optional_id, page_of, page_request, source
from authz.permissions import Permission
from domain.case import CaseState
from domain.decision import Verdict
from domain.region import Region
from domain.strike import StrikeStatus
from domain.subject import SubjectKind, Surface
from persistence.queries import filters as q
from persistence.queries import listing


@strawberry.input
class CaseFilter:
    region: Region | None = None
    states: list[CaseState] | None = None
    surface: Surface | None = None
    subject_id: strawberry.ID | None = strawberry.field(default=None, description="An Account, Content or Ad ID.")
    account_id: strawberry.ID | None = None
    policy_id: strawberry.ID | None = strawberry.field(default=None, description="Cases with a report under it.")
    queue_id: strawberry.ID | None = strawberry.field(
        default=None, description="Cases waiting in (or claimed from) this queue; region walls apply as ever."
    )
    created_after: datetime | None = None
    created_before: datetime | None = None


@strawberry.input
class DecisionFilter:
    region: Region | None = None
    verdict: Verdict | None = None
    policy_id: strawberry.ID | None = None
    decider_id: str | None = None
    decided_after: datetime | None = None
    decided_before: datetime | None = None


@strawberry.input
class StrikeFilter:
    region: Region | None = None
    account_id: strawberry.ID | None = None
    policy_id: strawberry.ID | None = None
    status: StrikeStatus | None = None


SUBJECT_KINDS = {"Account": SubjectKind.ACCOUNT, "Content": SubjectKind.CONTENT, "Ad": SubjectKind.AD}


def _subject(global_id: strawberry.ID | None) -> tuple[SubjectKind | None, uuid.UUID | None]:
    """The kind and id a subject's global id names (both filter the cases, in their index's order)."""
    if global_id is None:
        return None, None
    subject_id = parse_id(global_id, tuple(SUBJECT_KINDS), field="subjectId")
    parsed = parse_any(str(global_id))
    assert parsed is not None  # parse_id refused anything else
    return SUBJECT_KINDS[parsed[0]], subject_id


@strawberry.type
class ReviewQuery:
    @strawberry.field(extensions=requires(Permission.CASES_READ))
    async def cases(
        self, info: Info, first: int = 50, after: str | None = None, filter: CaseFilter | None = None
    ) -> Connection[Case] | None:
        f = filter or CaseFilter()
        with input_errors():
            subject_kind, subject_id = _subject(f.subject_id or None)
            query = q.CaseFilter(
                states=tuple(f.states or ()),
                surface=f.surface,
                subject_kind=subject_kind,
                subject_id=subject_id,
                account_id=optional_id(f.account_id, "Account", "accountId"),
                policy_id=optional_id(f.policy_id, "Policy", "policyId"),
                queue_id=optional_id(f.queue_id, "Queue", "queueId"),
                created_after=f.created_after,
                created_before=f.created_before,
            )
        request = page_request(info, Permission.CASES_READ, f.region, first, after)
        return await page_of(info, Case, listing.cases(source(info), query, request), look_ahead=prime_cases)

    @strawberry.field(extensions=requires(Permission.CASES_READ), description="Decisions, newest first.")
    async def decisions(
        self, info: Info, first: int = 50, after: str | None = None, filter: DecisionFilter | None = None
    ) -> Connection[Decision] | None:
        f = filter or DecisionFilter()
        with input_errors():
            policy_id = optional_id(f.policy_id, "Policy", "policyId")
        query = q.DecisionFilter(
            verdict=f.verdict,
            policy_id=policy_id,
            decider_id=f.decider_id,
            decided_after=f.decided_after,
            decided_before=f.decided_before,
        )
        request = page_request(info, Permission.CASES_READ, f.region, first, after)
        return await page_of(info, Decision, listing.decisions(source(info), query, request))

    @strawberry.field(extensions=requires(Permission.ACCOUNTS_READ))
    async def strikes(
        self, info: Info, first: int = 50, after: str | None = None, filter: StrikeFilter | None = None
    ) -> Connection[Strike] | None:
        f = filter or StrikeFilter()
        with input_errors():
            account_id = optional_id(f.account_id, "Account", "accountId")
            policy_id = optional_id(f.policy_id, "Policy", "policyId")
        query = q.StrikeFilter(account_id=account_id, policy_id=policy_id, status=f.status)
        request = page_request(info, Permission.ACCOUNTS_READ, f.region, first, after)
        return await page_of(info, Strike, listing.strikes(source(info), query, request))
