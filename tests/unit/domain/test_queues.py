"""Queues: routing new cases, SLA from the queue, claim next / release, escalation to the escalation queue, QA."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from domain import seniority
from domain.actor import Actor, ActorKind
from domain.case import Case, CaseState
from domain.clock import FixedClock
from domain.content import Content
from domain.decision import Verdict
from domain.errors import DomainError, ErrorCode
from domain.qa import QaOutcome, QaVerdict, in_sample, sample_bucket
from domain.queue import Queue, QueueSettings, QueueSurface, Routable, route
from domain.region import Region
from domain.services.case import EscalateCase, escalate_case
from domain.services.decision import DecideCase, decide_case
from domain.services.qa import SubmitQaReview, submit_qa_review
from domain.services.queue import ClaimNextCase, DefineQueue, ReleaseCase, claim_next_case, define_queue, release_case
from domain.subject import SubjectKind
from tests.unit.domain import builders as b
from tests.unit.domain.builders import T0
from tests.unit.domain.fakes import FakeUnitOfWork

MODS = frozenset({"moderator"})
SENIORS = frozenset({"senior_moderator"})
QA = Actor(id="qa-1", kind=ActorKind.STAFF, seniority=seniority.VENDOR_MODERATOR)


async def _queue(uow: FakeUnitOfWork, name: str, **settings: Any) -> Queue:
    settings.setdefault("roles", ("moderator",))
    cmd = DefineQueue(region=Region.US, name=name, settings=QueueSettings(surface=QueueSurface.CONTENT, **settings))
    return await define_queue(uow, b.POLICY_MANAGER, cmd)


async def _case(uow: FakeUnitOfWork, code: str = "HATE_SPEECH", *, reach: int = 1_000) -> Case:
    owner = await b.account(uow)
    item: Content = await b.content(uow, owner, reach=reach)
    policy = await uow.policies.get_by_code(code) or (await b.policy(uow, code)).policy
    filed = await b.report(uow, SubjectKind.CONTENT, item.id, policy.id)
    case = await uow.cases.get(filed.case_id)
    assert case is not None
    return case


def test_routing_takes_the_first_matching_rule_then_the_default() -> None:
    def q(name: str, rank: int | None, policies: tuple[str, ...] = (), default: bool = False) -> Queue:
        settings = QueueSettings(
            surface=QueueSurface.CONTENT, roles=("moderator",), policies=policies, routing_rank=rank, is_default=default
        )
        return Queue.define(region=Region.US, name=name, settings=settings, now=T0)

    hate, anything, default = q("hate", 1, ("HATE_SPEECH",)), q("anything", 2), q("default", None, default=True)
    spam = Routable(region=Region.US, surface=QueueSurface.CONTENT, policy_code="SPAM")
    assert route([default, anything, hate], Routable(Region.US, QueueSurface.CONTENT, "HATE_SPEECH")) is hate
    assert route([default, anything, hate], spam) is anything
    assert route([default, hate], spam) is default
    assert route([default, hate], Routable(Region.EU, QueueSurface.CONTENT, "SPAM")) is None


async def test_new_case_lands_in_its_queue_with_the_queue_sla(uow: FakeUnitOfWork) -> None:
    queue = await _queue(uow, "hate", policies=("HATE_SPEECH",), routing_rank=1, sla_hours=(1, 2, 3, 5))
    case = await _case(uow)
    assert case.queue_id == queue.id
    assert case.sla_due_at - case.created_at == timedelta(hours=queue.sla.hours_for(case.priority))


async def test_unmatched_case_goes_to_the_default_queue(uow: FakeUnitOfWork) -> None:
    await _queue(uow, "hate", policies=("HATE_SPEECH",), routing_rank=1)
    default = await _queue(uow, "content-default", is_default=True)
    case = await _case(uow, "SPAM")
    assert case.queue_id == default.id


async def test_second_default_queue_is_a_conflict(uow: FakeUnitOfWork) -> None:
    await _queue(uow, "content-default", is_default=True)
    with pytest.raises(DomainError) as err:
        await _queue(uow, "another-default", is_default=True)
    assert err.value.code is ErrorCode.CONFLICT


async def test_define_queue_again_reconfigures_it(uow: FakeUnitOfWork) -> None:
    first = await _queue(uow, "hate", sla_hours=(4, 12, 24, 48))
    again = await _queue(uow, "hate", sla_hours=(2, 6, 12, 24))
    assert again is first
    assert first.sla_urgent_hours == 2


async def test_claim_next_hands_out_the_most_urgent_case_once(uow: FakeUnitOfWork) -> None:
    queue = await _queue(uow, "q", is_default=True)
    low = await _case(uow, reach=10)
    high = await _case(uow, reach=10**6)
    first = await claim_next_case(uow, b.MODERATOR, ClaimNextCase(queue_id=queue.id, roles=MODS))
    second = await claim_next_case(uow, b.MODERATOR_2, ClaimNextCase(queue_id=queue.id, roles=MODS))
    third = await claim_next_case(uow, b.MODERATOR_2, ClaimNextCase(queue_id=queue.id, roles=MODS))
    assert (first, second, third) == (high, low, None)
    assert high.state is CaseState.ASSIGNED
    assert high.assignee_id == b.MODERATOR.id


async def test_claim_next_needs_a_role_of_the_queue(uow: FakeUnitOfWork) -> None:
    queue = await _queue(uow, "q", is_default=True)
    with pytest.raises(DomainError) as err:
        await claim_next_case(uow, b.VENDOR, ClaimNextCase(queue_id=queue.id, roles=frozenset({"vendor_moderator"})))
    assert err.value.code is ErrorCode.FORBIDDEN


async def test_an_expired_lease_returns_the_case_to_the_queue(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    queue = await _queue(uow, "q", is_default=True)
    case = await _case(uow)
    await claim_next_case(uow, b.MODERATOR, ClaimNextCase(queue_id=queue.id, roles=MODS))
    clock.advance(timedelta(minutes=16))
    again = await claim_next_case(uow, b.MODERATOR_2, ClaimNextCase(queue_id=queue.id, roles=MODS))
    assert again is case
    assert case.assignee_id == b.MODERATOR_2.id


async def test_release_gives_the_case_back(uow: FakeUnitOfWork) -> None:
    queue = await _queue(uow, "q", is_default=True)
    case = await _case(uow)
    await claim_next_case(uow, b.MODERATOR, ClaimNextCase(queue_id=queue.id, roles=MODS))
    with pytest.raises(DomainError) as err:
        await release_case(uow, b.MODERATOR_2, ReleaseCase(case_id=case.id))
    assert err.value.code is ErrorCode.CONFLICT
    await release_case(uow, b.MODERATOR, ReleaseCase(case_id=case.id))
    assert (case.state, case.assignee_id, case.lease_expires_at) == (CaseState.OPEN, None, None)


async def test_escalation_moves_the_case_to_the_escalation_queue(uow: FakeUnitOfWork) -> None:
    escalations = await _queue(uow, "escalations", roles=("senior_moderator",))
    queue = await _queue(uow, "q", is_default=True, escalation_queue_id=escalations.id)
    case = await _case(uow)
    await escalate_case(uow, b.MODERATOR, EscalateCase(case_id=case.id, reason="Newsworthy."))
    assert (case.state, case.queue_id) == (CaseState.ESCALATED, escalations.id)
    nothing = await claim_next_case(uow, b.MODERATOR, ClaimNextCase(queue_id=queue.id, roles=MODS))
    claimed = await claim_next_case(uow, b.SENIOR, ClaimNextCase(queue_id=escalations.id, roles=SENIORS))
    assert (nothing, claimed) == (None, case)


def test_sampling_is_deterministic_and_follows_the_rate() -> None:
    ids = [uuid.UUID(int=n * 7919) for n in range(2_000)]
    assert [sample_bucket(i) for i in ids] == [sample_bucket(i) for i in ids]
    assert not any(in_sample(i, 0) for i in ids)
    assert all(in_sample(i, 10_000) for i in ids)
    assert 50 <= sum(in_sample(i, 500) for i in ids) <= 150


async def _decided(uow: FakeUnitOfWork, rate_bp: int) -> Case:
    await _queue(uow, "q", is_default=True, qa_sample_bp=rate_bp)
    case = await _case(uow)
    hate = await uow.policies.get_by_code("HATE_SPEECH")
    assert hate is not None
    cmd = DecideCase(case_id=case.id, verdict=Verdict.VIOLATING, policy_id=hate.id, rationale="Breaks it.")
    await decide_case(uow, b.MODERATOR, cmd)
    return case


async def test_qa_disagreement_opens_an_escalated_corrective_case(uow: FakeUnitOfWork) -> None:
    case = await _decided(uow, 10_000)
    verdict = QaVerdict(outcome=QaOutcome.DISAGREE, correct_verdict=Verdict.NOT_VIOLATING, notes="Satire.")
    result = await submit_qa_review(
        uow, QA, SubmitQaReview(case_id=case.id, verdict=verdict, open_corrective_case=True)
    )
    assert result.review.moderator_id == b.MODERATOR.id
    assert result.corrective_case is not None
    assert result.corrective_case.state is CaseState.ESCALATED
    assert result.review.corrective_case_id == result.corrective_case.id


async def test_qa_outside_the_sample_is_refused(uow: FakeUnitOfWork) -> None:
    case = await _decided(uow, 0)
    agree = SubmitQaReview(case_id=case.id, verdict=QaVerdict(outcome=QaOutcome.AGREE))
    with pytest.raises(DomainError) as outside:
        await submit_qa_review(uow, QA, agree)
    assert outside.value.code is ErrorCode.INVALID_STATE


async def test_qa_review_twice_is_a_conflict(uow: FakeUnitOfWork) -> None:
    case = await _decided(uow, 10_000)
    agree = SubmitQaReview(case_id=case.id, verdict=QaVerdict(outcome=QaOutcome.AGREE))
    await submit_qa_review(uow, QA, agree)
    before = uow.snapshot()
    with pytest.raises(DomainError) as err:
        await submit_qa_review(uow, QA, agree)
    assert err.value.code is ErrorCode.CONFLICT
    assert uow.snapshot() == before


async def test_corrective_case_only_after_disagreeing(uow: FakeUnitOfWork) -> None:
    case = await _decided(uow, 10_000)
    cmd = SubmitQaReview(case_id=case.id, verdict=QaVerdict(outcome=QaOutcome.AGREE), open_corrective_case=True)
    with pytest.raises(DomainError) as err:
        await submit_qa_review(uow, QA, cmd)
    assert err.value.code is ErrorCode.INVALID_INPUT


async def test_the_holder_renews_the_lease(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    queue = await _queue(uow, "q", is_default=True)
    case = await _case(uow)
    await claim_next_case(uow, b.MODERATOR, ClaimNextCase(queue_id=queue.id, roles=MODS))
    clock.advance(timedelta(minutes=10))
    renew = ClaimNextCase(queue_id=queue.id, roles=MODS, renew_case_id=case.id)
    assert await claim_next_case(uow, b.MODERATOR, renew) is case
    assert case.lease_expires_at == clock.now() + timedelta(minutes=15)
    with pytest.raises(DomainError) as err:
        await claim_next_case(uow, b.MODERATOR_2, renew)
    assert err.value.code is ErrorCode.CONFLICT
