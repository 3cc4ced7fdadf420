"""Delayed rule actions: ``delay(10m, 2h, decide(...))`` acts at a random moment of its window, so a wave of bots
is not tipped off by an instant ban.

A LIVE hit schedules the action (``domain.services.rule_runs`` calls ``RunPorts.schedule``): it is stored with a
due time drawn uniformly in [hit time + min, hit time + max] by an injectable source of randomness (``due_time``).
When due, a runner claims it (each one runs at most once, whatever the number of runners and restarts: see
``persistence.delayed_actions``) and ``run_pending`` applies the checks an immediate action meets, as of then:

* the rule must still be LIVE and unexpired, and the subject not snoozed (a human decided on it, or judged this
  rule wrong on it), else the action is DROPPED with the reason;
* the rule's daily cap and the region's circuit breaker count it now; past them it is withheld and enqueued for a
  human, as an immediate action would be;
* else it is taken as the rule version that scheduled it (the actor ``rule:<id>:v<n>`` of the hit).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.rules import Action, Delayed
from domain.rules.actions import Immediate
from domain.rules.event import Event
from domain.services.events import Accepted
from domain.services.rule_runs import ActionResult, ActiveRule, Outcome, action_kind
from domain.services.rules import RuleState


def due_time(hit_at: datetime, action: Delayed, draw: Callable[[], float]) -> datetime:
    """When a delayed action falls due: ``draw()`` is uniform in [0, 1) (``random.Random().random``)."""
    share = draw()
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"draw() must answer a share in [0, 1], not {share}")
    return hit_at + action.min_delay + (action.max_delay - action.min_delay) * share


@dataclass(frozen=True)
class PendingAction:
    """A stored delayed action: the hit's rule version and event (its entities, enough to act on) and the action."""

    id: uuid.UUID
    rule_id: uuid.UUID
    rule_version: int
    region: str
    event_id: uuid.UUID
    event: Event
    action: Immediate
    due_at: datetime

    @property
    def accepted(self) -> Accepted:
        return Accepted(self.event_id, self.event, duplicate=False)


class DuePorts(Protocol):
    """What running a due action needs (``persistence.delayed_actions``): act and enqueue inside the transaction
    that claimed it, so the action, its audit records and the action's new state commit together."""

    async def snoozed(self, wanted: Iterable[tuple[str, str, str]], now: datetime) -> set[tuple[str, ...]]: ...

    async def take_quota(self, rule: ActiveRule, action_kind: str, now: datetime) -> str | None: ...

    async def act(self, rule: ActiveRule, accepted: Accepted, action: Action, now: datetime) -> ActionResult: ...

    async def enqueue(
        self, rule: ActiveRule, accepted: Accepted, action: Action, reason: str, now: datetime
    ) -> ActionResult: ...


async def run_pending(pending: PendingAction, rule: ActiveRule | None, ports: DuePorts, now: datetime) -> ActionResult:
    """Run (or drop) a due action. ``rule``: the rule as it stands now (its state, cap and expiry), at the version
    that scheduled the action (cited by the actor); None if the rule is gone."""
    kind = action_kind(pending.action)
    if rule is None:
        return ActionResult(kind, Outcome.DROPPED, "the rule is gone")
    if rule.state is not RuleState.LIVE:
        return ActionResult(kind, Outcome.DROPPED, f"the rule is {rule.state.value} now")
    if rule.expires_at is not None and rule.expires_at <= now:
        return ActionResult(kind, Outcome.DROPPED, "expired")
    subject = pending.event.subject
    if subject is not None:
        snoozed = await ports.snoozed([(pending.region, *subject)], now)
        if (pending.region, *subject) in snoozed or (str(rule.rule_id), pending.region, *subject) in snoozed:
            return ActionResult(kind, Outcome.DROPPED, "snoozed")
    spent = await ports.take_quota(rule, kind, now)
    if spent is not None:
        return await ports.enqueue(rule, pending.accepted, pending.action, spent, now)
    return await ports.act(rule, pending.accepted, pending.action, now)
