"""A rule's actions, as data: the engine returns them in each ``Hit``; the caller executes them.

Rule text spells them after ``then`` (see docs/RULES.md):

* ``open_case(queue="spam", priority=80)``  -> ``OpenCase``: open a case on the event's subject, or route its open
  case, to the queue with the priority (0-100).
* ``decide("REMOVE_CONTENT", "SUSPEND_ACCOUNT:7")`` -> ``Decide``: an automated VIOLATING decision under the rule's
  policy with the requested enforcement actions (``KIND`` or ``KIND:days``, as ``domain.automation`` encodes them).
* ``label(account, "spammer", 7d)`` -> ``Label``: put a label on an entity of the event, expiring after the duration
  (no duration: no expiry). Rules test labels with ``"spammer" in account.labels``.
* ``delay(10m, 2h, <action>)`` -> ``Delayed``: run the action after a random delay drawn in [min, max].
* ``hold()`` -> ``Hold``: hold the event's subject for human review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


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
