"""Delayed rule actions (issue 22, ``delay(min, max, action)``): the due time falls in the window as the random
source says; stored actions read back as they were; when due, an action is dropped if the rule left LIVE, expired or
the subject was snoozed meanwhile, enqueued past a cap, else taken."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.rules import Action, Decide, Delayed, Hold, Label, OpenCase
from domain.rules.actions import Immediate, from_json, to_json
from domain.rules.event import Event
from domain.services.delayed_actions import PendingAction, due_time, run_pending
from domain.services.events import Accepted
from domain.services.rule_runs import ActionResult, ActiveRule, Outcome
from domain.services.rules import RuleState

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
RULE = ActiveRule(uuid.uuid4(), 3, "US", "coins", RuleState.LIVE, uuid.uuid4(), None, None)
DECIDE = Decide("SPAM", ("REMOVE_CONTENT", "SUSPEND_ACCOUNT:7"))


@pytest.mark.parametrize(("share", "after"), [(0.0, timedelta(minutes=10)), (0.5, timedelta(minutes=65))])
def test_the_due_time_is_drawn_in_the_window(share: float, after: timedelta) -> None:
    delayed = Delayed(DECIDE, timedelta(minutes=10), timedelta(hours=2))
    assert due_time(T0, delayed, lambda: share) == T0 + after


def test_a_draw_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        due_time(T0, Delayed(Hold(), timedelta(0), timedelta(1)), lambda: 1.5)


@pytest.mark.parametrize(
    "action",
    [OpenCase("spam", 80), DECIDE, Label("account", "spammer", timedelta(days=7)), Label("account", "x", None), Hold()],
)
def test_stored_actions_read_back_unchanged(action: Immediate) -> None:
    assert from_json(to_json(action)) == action


def test_a_stored_action_of_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="not a stored action"):
        from_json({"kind": "ban_everyone"})


class Ports:
    def __init__(self, *, snoozed: set[tuple[str, ...]] | None = None, spent: str | None = None) -> None:
        self._snoozed = snoozed or set()
        self._spent = spent
        self.calls: list[str] = []

    async def snoozed(self, wanted: Iterable[tuple[str, str, str]], now: datetime) -> set[tuple[str, ...]]:
        return self._snoozed

    async def take_quota(self, rule: ActiveRule, action_kind: str, now: datetime) -> str | None:
        self.calls.append(f"quota {action_kind}")
        return self._spent

    async def act(self, rule: ActiveRule, accepted: Accepted, action: Action, now: datetime) -> ActionResult:
        self.calls.append(f"act v{rule.version}")
        return ActionResult("DECIDE", Outcome.TAKEN, "decision")

    async def enqueue(
        self, rule: ActiveRule, accepted: Accepted, action: Action, reason: str, now: datetime
    ) -> ActionResult:
        self.calls.append(f"enqueue {reason}")
        return ActionResult("DECIDE", Outcome.WITHHELD, reason, uuid.uuid4())


def _pending() -> PendingAction:
    event = Event("content.posted", "US", {"account": "u-1", "content": "c-1"}, {}, T0, "k-1")
    return PendingAction(uuid.uuid4(), RULE.rule_id, 3, "US", uuid.uuid4(), event, DECIDE, T0)


async def test_a_due_action_is_taken_as_its_version_after_counting_it() -> None:
    ports = Ports()
    result = await run_pending(_pending(), RULE, ports, T0)
    assert (result.outcome, ports.calls) == (Outcome.TAKEN, ["quota DECIDE", "act v3"])


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        (None, "the rule is gone"),
        (replace(RULE, state=RuleState.DISABLED), "the rule is DISABLED now"),
        (replace(RULE, state=RuleState.SHADOW), "the rule is SHADOW now"),
        (replace(RULE, expires_at=T0), "expired"),
    ],
)
async def test_an_action_of_a_rule_no_longer_live_is_dropped(rule: ActiveRule | None, reason: str) -> None:
    ports = Ports()
    result = await run_pending(_pending(), rule, ports, T0)
    assert (result.outcome, result.reason, ports.calls) == (Outcome.DROPPED, reason, [])


@pytest.mark.parametrize("key", [("US", "content", "c-1"), (str(RULE.rule_id), "US", "content", "c-1")])
async def test_an_action_on_a_snoozed_subject_is_dropped(key: tuple[str, ...]) -> None:
    ports = Ports(snoozed={key})
    result = await run_pending(_pending(), RULE, ports, T0)
    assert (result.outcome, result.reason, ports.calls) == (Outcome.DROPPED, "snoozed", [])


async def test_past_the_cap_it_is_enqueued_not_taken() -> None:
    ports = Ports(spent="daily cap")
    result = await run_pending(_pending(), RULE, ports, T0)
    assert (result.outcome, result.reason) == (Outcome.WITHHELD, "daily cap")
    assert result.case_id is not None
    assert ports.calls == ["quota DECIDE", "enqueue daily cap"]
