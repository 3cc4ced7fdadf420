"""Appeals have their own queues: routing with the queue's SLA, claim / renew / release, leases and deciding."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.appeal import APPEAL_SLA_PRIORITY, Appeal, AppealState
from domain.clock import FixedClock
from domain.errors import DomainError, ErrorCode
from domain.queue import Queue, QueueSettings, QueueSurface
from domain.region import Region
from domain.services.appeal import (
    ClaimNextAppeal,
    DecideAppeal,
    FileAppeal,
    ReleaseAppeal,
    claim_next_appeal,
    decide_appeal,
    file_appeal,
    release_appeal,
)
from domain.services.queue import DefineQueue, define_queue
from tests.unit.domain import builders as b
from tests.unit.domain.builders import T0
from tests.unit.domain.fakes import FakeUnitOfWork

DECIDERS = frozenset({"senior_moderator"})
LEASE = timedelta(minutes=15)


async def _queue(uow: FakeUnitOfWork, name: str, *, surface: QueueSurface = QueueSurface.APPEALS, **kw: Any) -> Queue:
    kw.setdefault("roles", ("senior_moderator",))
    settings = QueueSettings(surface=surface, **kw)
    return await define_queue(uow, b.POLICY_MANAGER, DefineQueue(region=Region.US, name=name, settings=settings))


async def _appeal(uow: FakeUnitOfWork, code: str = "HATE_SPEECH", *, region: Region = Region.US) -> Appeal:
    owner = await b.account(uow, region=region)
    policy = await uow.policies.get_by_code(code) or (await b.policy(uow, code)).policy
    decided = await b.violate(uow, await b.content(uow, owner), policy.id)
    cmd = FileAppeal(decision_id=decided.decision.id, appellant_account_id=owner.id, statement="It was satire.")
    return await file_appeal(uow, b.PLATFORM, cmd)


def _claim(queue: Queue, renew: Appeal | None = None, roles: frozenset[str] = DECIDERS) -> ClaimNextAppeal:
    return ClaimNextAppeal(queue_id=queue.id, roles=roles, renew_appeal_id=renew.id if renew else None)


def _decide(appeal: Appeal) -> DecideAppeal:
    return DecideAppeal(appeal_id=appeal.id, outcome=AppealState.UPHELD, rationale="Stands.")


async def test_an_appeal_lands_in_the_matching_appeals_queue_with_its_high_band_sla(uow: FakeUnitOfWork) -> None:
    await _queue(uow, "content-default", surface=QueueSurface.CONTENT, roles=("moderator",), is_default=True)
    await _queue(uow, "appeals-default", is_default=True)
    hate = await _queue(uow, "appeals-hate", policies=("HATE_SPEECH",), routing_rank=1, sla_hours=(1, 6, 24, 48))
    appeal = await _appeal(uow)
    assert appeal.queue_id == hate.id
    assert appeal.sla_due_at == T0 + timedelta(hours=6)
    assert hate.sla.hours_for(APPEAL_SLA_PRIORITY) == hate.sla_high_hours


async def test_an_unmatched_appeal_goes_to_the_regions_default_appeals_queue(uow: FakeUnitOfWork) -> None:
    await _queue(uow, "appeals-hate", policies=("HATE_SPEECH",), routing_rank=1)
    default = await _queue(uow, "appeals-default", is_default=True)
    appeal = await _appeal(uow, "SPAM")
    assert (appeal.queue_id, appeal.sla_due_at) == (default.id, T0 + timedelta(hours=default.sla_high_hours))


async def test_without_an_appeals_queue_the_appeal_stays_unqueued(uow: FakeUnitOfWork) -> None:
    await _queue(uow, "content-default", surface=QueueSurface.CONTENT, roles=("moderator",), is_default=True)
    await _queue(uow, "us-appeals", is_default=True)  # a US queue: it never takes EU appeals
    eu = await _appeal(uow, region=Region.EU)
    assert (eu.queue_id, eu.sla_due_at) == (None, None)


async def test_claim_takes_the_most_overdue_appeal_and_skips_leased_ones(
    uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    queue = await _queue(uow, "appeals", is_default=True)
    first = await _appeal(uow)
    clock.advance(timedelta(minutes=1))
    second = await _appeal(uow)
    assert await claim_next_appeal(uow, b.SENIOR, _claim(queue)) is first
    assert (first.assignee_id, first.lease_expires_at) == (b.SENIOR.id, clock.now() + LEASE)
    assert await claim_next_appeal(uow, b.SENIOR_2, _claim(queue)) is second
    assert await claim_next_appeal(uow, b.POLICY_MANAGER, _claim(queue, roles=frozenset({"senior_moderator"}))) is None


async def test_the_original_decider_and_the_less_senior_are_not_handed_the_appeal(uow: FakeUnitOfWork) -> None:
    queue = await _queue(uow, "appeals", is_default=True, roles=("moderator", "vendor_moderator"))
    await _appeal(uow)  # decided by b.MODERATOR
    assert await claim_next_appeal(uow, b.MODERATOR, _claim(queue, roles=frozenset({"moderator"}))) is None
    assert await claim_next_appeal(uow, b.VENDOR, _claim(queue, roles=frozenset({"vendor_moderator"}))) is None
    assert await claim_next_appeal(uow, b.MODERATOR_2, _claim(queue, roles=frozenset({"moderator"}))) is not None


async def test_claiming_needs_one_of_the_queues_roles_and_an_appeals_queue(uow: FakeUnitOfWork) -> None:
    queue = await _queue(uow, "appeals", is_default=True)
    cases = await _queue(uow, "content", surface=QueueSurface.CONTENT, roles=("senior_moderator",))
    await _appeal(uow)
    before = uow.snapshot()
    with pytest.raises(DomainError) as refused:
        await claim_next_appeal(uow, b.MODERATOR_2, _claim(queue, roles=frozenset({"moderator"})))
    assert refused.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(DomainError) as wrong:
        await claim_next_appeal(uow, b.SENIOR, _claim(cases))
    assert (wrong.value.code, wrong.value.field) == (ErrorCode.INVALID_INPUT, "queueId")
    assert uow.snapshot() == before


async def test_renew_release_and_an_expired_lease(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    queue = await _queue(uow, "appeals", is_default=True)
    appeal = await _appeal(uow)
    assert await claim_next_appeal(uow, b.SENIOR, _claim(queue)) is appeal
    clock.advance(timedelta(minutes=10))
    assert await claim_next_appeal(uow, b.SENIOR, _claim(queue, renew=appeal)) is appeal
    assert appeal.lease_expires_at == clock.now() + LEASE
    with pytest.raises(DomainError) as not_mine:
        await claim_next_appeal(uow, b.SENIOR_2, _claim(queue, renew=appeal))
    assert not_mine.value.code is ErrorCode.CONFLICT
    with pytest.raises(DomainError) as stranger:
        await release_appeal(uow, b.SENIOR_2, ReleaseAppeal(appeal.id))
    assert stranger.value.code is ErrorCode.CONFLICT

    released = await release_appeal(uow, b.SENIOR, ReleaseAppeal(appeal.id))
    assert (released.assignee_id, released.lease_expires_at) == (None, None)
    assert await claim_next_appeal(uow, b.SENIOR_2, _claim(queue)) is appeal
    clock.advance(LEASE)
    assert await claim_next_appeal(uow, b.SENIOR, _claim(queue)) is appeal  # the lapsed lease is free
    assert appeal.assignee_id == b.SENIOR.id


async def test_a_held_appeal_cannot_be_decided_by_another_and_deciding_ends_the_lease(
    uow: FakeUnitOfWork, clock: FixedClock
) -> None:
    queue = await _queue(uow, "appeals", is_default=True)
    appeal = await _appeal(uow)
    await claim_next_appeal(uow, b.SENIOR, _claim(queue))
    before = uow.snapshot()
    with pytest.raises(DomainError) as held:
        await decide_appeal(uow, b.SENIOR_2, _decide(appeal))
    assert held.value.code is ErrorCode.CONFLICT
    assert uow.snapshot() == before

    decided = await decide_appeal(uow, b.SENIOR, _decide(appeal))
    assert (decided.appeal.state, decided.appeal.lease_expires_at) == (AppealState.UPHELD, None)
    with pytest.raises(DomainError) as gone:
        await release_appeal(uow, b.SENIOR, ReleaseAppeal(appeal.id))
    assert gone.value.code is ErrorCode.INVALID_STATE
    assert await claim_next_appeal(uow, b.SENIOR_2, _claim(queue)) is None


async def test_an_expired_lease_does_not_block_another_decider(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    queue = await _queue(uow, "appeals", is_default=True)
    appeal = await _appeal(uow)
    await claim_next_appeal(uow, b.SENIOR, _claim(queue))
    clock.advance(LEASE)
    decided = await decide_appeal(uow, b.SENIOR_2, _decide(appeal))
    assert decided.appeal.decider_id == b.SENIOR_2.id


async def test_the_original_decider_cannot_hold_the_appeal(uow: FakeUnitOfWork) -> None:
    appeal = await _appeal(uow)
    decision = await uow.decisions.get(appeal.decision_id)
    assert decision is not None
    with pytest.raises(DomainError) as refused:
        appeal.claim(b.MODERATOR, decision, LEASE, T0)
    assert refused.value.code is ErrorCode.FORBIDDEN
    assert appeal.assignee_id is None
