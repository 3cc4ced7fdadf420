"""Bulk jobs in the domain: leases, encoding, and an item that fails after changing something."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.actor import ActorKind, Capability
from domain.bulk import BulkItemState, BulkJob, BulkJobItem, BulkJobState, check_decision, decode_action, encode_action
from domain.clock import FixedClock
from domain.decision import Verdict
from domain.enforcement import ActionKind, RequestedAction
from domain.errors import DomainError
from domain.region import Region
from domain.services.bulk import ItemSpoiled, run_chunk

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def job(**fields: Any) -> BulkJob:
    values: dict[str, Any] = {
        "actor_id": "mod",
        "actor_kind": ActorKind.STAFF,
        "principal_kind": "STAFF",
        "verdict": Verdict.VIOLATING,
        "policy_id": uuid.uuid4(),
        "rationale": "spam",
        "total": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return BulkJob(**{**values, **fields})


def item(job_id: uuid.UUID) -> BulkJobItem:
    return BulkJobItem(job_id=job_id, position=0, case_id=uuid.uuid4(), created_at=NOW, updated_at=NOW)


class NoCases:
    """A unit of work whose `cases.get` finds nothing, and that pretends a change happened on every call."""

    clock = FixedClock(NOW)

    def __init__(self) -> None:
        self.changes = 0
        self.cases = self

    async def get(self, id: uuid.UUID) -> None:
        self.changes += 1
        return None


def test_actions_round_trip() -> None:
    for action in (RequestedAction(ActionKind.REMOVE_CONTENT), RequestedAction(ActionKind.SUSPEND_ACCOUNT, 7)):
        assert decode_action(encode_action(action)) == action
    assert job(actions="REMOVE_CONTENT,SUSPEND_ACCOUNT:7").requested[1].duration_days == 7


def test_a_lease_is_held_until_it_expires_and_ends_with_the_job() -> None:
    j = job()
    assert j.lease_free(NOW)
    j.take_lease("a", NOW)
    assert j.holds_lease("a", NOW + timedelta(seconds=59))
    assert not j.holds_lease("a", NOW + timedelta(seconds=61))
    assert not j.holds_lease("b", NOW)
    j.record(1, 0, NOW, finished=True)
    assert (j.state, j.lease_owner) == (BulkJobState.COMPLETED, None)
    with pytest.raises(DomainError):
        j.cancel(NOW)


def test_an_ad_action_and_a_content_action_cannot_go_together() -> None:
    both = (RequestedAction(ActionKind.REMOVE_CONTENT), RequestedAction(ActionKind.REJECT_AD))
    with pytest.raises(DomainError) as caught:
        check_decision(Verdict.VIOLATING, "spam", both)
    assert caught.value.field == "actions"


async def test_an_item_that_fails_after_changing_something_spoils_the_chunk() -> None:
    j = job()
    j.take_lease("me", NOW)
    uow = NoCases()
    pending = item(j.id)
    with pytest.raises(ItemSpoiled) as caught:
        await run_chunk(uow, j, [pending], lease_owner="me", more=False, untouched=lambda: uow.changes)  # type: ignore[arg-type]
    assert caught.value.item_id == pending.id
    # the next try fails it at once, alone, with the error it had
    outcome = await run_chunk(
        uow,
        j,
        [pending],
        lease_owner="me",
        more=False,
        failed_before={pending.id: caught.value.error},  # type: ignore[arg-type]
    )
    assert (outcome.failed, pending.state, pending.error_code) == (1, BulkItemState.FAILED, "NOT_FOUND")


def test_narrowing_keeps_only_what_is_still_held_and_never_widens() -> None:
    j = job(decide_regions="EU,US", sanction_regions=None, seniority=2)
    j.narrow(frozenset({"US", "APAC"}), frozenset({"US"}), 3)
    assert (j.decide_regions, j.sanction_regions, j.seniority) == ("US", "US", 2)
    j.narrow(None, None, 5)  # "every region" now does not give back what was lost
    assert (j.decide_regions, j.sanction_regions) == ("US", "US")
    assert not j.may_sanction_in("EU")
    assert j.actor.may(Capability.SANCTION_ACCOUNTS, Region.US)  # what the job acts with, item by item
    assert not j.actor.may(Capability.SANCTION_ACCOUNTS, Region.EU)
