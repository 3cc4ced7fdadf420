"""The Lease value object that cases and appeals are worked under."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.lease import Lease
from tests.unit.domain.fakes import FakeUnitOfWork
from tests.unit.domain.test_appeal_queues import _appeal
from tests.unit.domain.test_cases import _case

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_taken_lease_is_held_until_it_expires() -> None:
    lease = Lease.taken("mod-1", timedelta(minutes=15), NOW)

    assert lease.held_by("mod-1", NOW)
    assert lease.held_by_other("mod-2", NOW)
    assert not lease.held_by_other("mod-1", NOW)
    later = NOW + timedelta(minutes=15)
    assert lease.is_free(later)
    assert not lease.held_by("mod-1", later)
    assert not lease.held_by_other("mod-2", later)


def test_an_ended_lease_keeps_its_last_holder_and_is_free() -> None:
    ended = Lease.taken("mod-1", timedelta(minutes=15), NOW).ended()

    assert ended == Lease("mod-1", None)
    assert ended.is_free(NOW)
    assert Lease().is_free(NOW)


async def test_cases_and_appeals_read_and_write_the_same_lease(uow: FakeUnitOfWork) -> None:
    case, _ = await _case(uow)
    appeal = await _appeal(uow)

    for record in (case, appeal):
        record.lease = Lease.taken("mod-1", timedelta(minutes=5), NOW)
        assert (record.assignee_id, record.lease_expires_at) == ("mod-1", NOW + timedelta(minutes=5))
        assert record.lease == Lease("mod-1", NOW + timedelta(minutes=5))
