"""A rule's actions, as data: the engine returns them in each ``Hit``; the caller executes them.

Rule text spells them after ``then`` (see docs/RULES.md):

* ``open_case(queue="spam", priority=80)``  -> ``OpenCase``: open a case on the event's subject, or route its open
  case, to the queue with the priority (0-100).
* ``decide("REMOVE_CONTENT", "SUSPEND_ACCOUNT:7")`` -> ``Decide``: an automated VIOLATING decision under the rule's
  policy with the requested enforcement actions (``KIND`` or ``KIND:days``, as ``domain.automation`` encodes them).
* ``label(account, "spammer", 7d)`` -> ``Label``: put a label on an entity of the event, expiring after the duration
  (no duration: no expiry). Rules test labels with ``"spammer" in account.labels``.
* ``delay(10m, 2h, <action>)`` -> ``Delayed``: run the action after a random delay drawn in [min, max] (the caller
  stores it, ``to_json``/``from_json`` below, and runs it when due).
* ``hold()`` -> ``Hold``: hold the event's subject for human review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class OpenCase:
    queue: str
    priority: int


@dataclass(frozen=True, slots=True)
class Decide:
    policy: str
    actions: tuple[str, ...]
    """Encoded requested actions, ``KIND`` or ``KIND:days`` (``domain.automation.decode_action`` reads them)."""


@dataclass(frozen=True, slots=True)
class Label:
    entity_kind: str
    name: str
    expiry: timedelta | None


@dataclass(frozen=True, slots=True)
class Hold:
    pass


@dataclass(frozen=True, slots=True)
class Delayed:
    action: OpenCase | Decide | Label | Hold
    min_delay: timedelta
    max_delay: timedelta


Action = OpenCase | Decide | Label | Hold | Delayed

Immediate = OpenCase | Decide | Label | Hold
"""What a ``Delayed`` action runs when due."""


def to_json(action: Immediate) -> dict[str, Any]:
    """An immediate action as JSON-ready data (a delayed action waits in storage as this)."""
    if isinstance(action, OpenCase):
        return {"kind": "open_case", "queue": action.queue, "priority": action.priority}
    if isinstance(action, Decide):
        return {"kind": "decide", "policy": action.policy, "actions": list(action.actions)}
    if isinstance(action, Label):
        expiry = None if action.expiry is None else action.expiry.total_seconds()
        return {"kind": "label", "entity_kind": action.entity_kind, "name": action.name, "expiry_seconds": expiry}
    return {"kind": "hold"}


def from_json(data: Mapping[str, Any]) -> Immediate:
    """The action ``to_json`` wrote (``ValueError`` for anything else)."""
    kind = data.get("kind")
    if kind == "open_case":
        return OpenCase(str(data["queue"]), int(data["priority"]))
    if kind == "decide":
        return Decide(str(data["policy"]), tuple(str(a) for a in data["actions"]))
    if kind == "label":
        seconds = data.get("expiry_seconds")
        expiry = None if seconds is None else timedelta(seconds=float(seconds))
        return Label(str(data["entity_kind"]), str(data["name"]), expiry)
    if kind == "hold":
        return Hold()
    raise ValueError(f"not a stored action: {kind!r}")
