"""Queue aggregate: a named stream of cases, and the routing rule that places each new case in one.

Routing (``route``): queues with a ``routing_rank`` are rules, tried in ascending rank (then name); the first
queue whose region, surface, policies and languages all match the case takes it. An empty ``policies`` or
``languages`` matches anything. No rule matches → the region's *default* queue for the surface
(``is_default``); none defined → the case stays unqueued (SLA from ``DomainConfig.sla``).
APPEALS queues take appeals the same way (``domain.services.appeal.file_appeal``: the decision's region and
policy, the account's language), with the SLA of ``domain.appeal.APPEAL_SLA_PRIORITY``; none → unqueued.

SLA hours are set per priority band (the bands of ``domain.sla``: urgent ≥ 80, high ≥ 50, medium ≥ 20, low).
``roles`` are the staff roles that may work the queue (claim its cases). ``escalation_queue_id`` is where
``escalateCase`` sends its cases. ``qa_sample_bp`` is the share of decided cases sampled for QA, in basis
points (500 = 5%).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from domain import limits
from domain.errors import DomainError
from domain.region import Region
from domain.sla import SlaTable
from domain.subject import Surface

SLA_HOURS_MAX: Final = 24 * 90
QA_SAMPLE_BP_MAX: Final = 10_000
ROLES_MAX: Final = 10
MATCH_ITEMS_MAX: Final = 50
DEFAULT_QA_SAMPLE_BP: Final = 500


class QueueSurface(StrEnum):
    CONTENT = "CONTENT"
    ADS = "ADS"
    ACCOUNT = "ACCOUNT"
    APPEALS = "APPEALS"


#: The queue surface that takes the cases of each case surface (appeal queues take appeals, not cases).
QUEUE_SURFACE: Final[dict[Surface, QueueSurface]] = {
    Surface.CONTENT: QueueSurface.CONTENT,
    Surface.ADS: QueueSurface.ADS,
    Surface.ACCOUNT: QueueSurface.ACCOUNT,
}


@dataclass(frozen=True)
class Routable:
    """What routing looks at on a new case: its region and surface, the reported policy, the language."""

    region: Region
    surface: QueueSurface
    policy_code: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class QueueSettings:
    """Everything ``defineQueue`` sets (the identity is region + name)."""

    surface: QueueSurface
    roles: tuple[str, ...]
    policies: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sla_hours: tuple[int, int, int, int] = (4, 12, 24, 48)
    routing_rank: int | None = None
    is_default: bool = False
    escalation_queue_id: uuid.UUID | None = None
    qa_sample_bp: int = DEFAULT_QA_SAMPLE_BP

    def validate(self) -> None:
        limits.items(self.roles, field="roles", max_items=ROLES_MAX, max_len=limits.NAME_MAX)
        if not self.roles:
            raise DomainError.invalid_input("a queue needs at least one role that may work it", "roles")
        for code in self.policies:
            limits.policy_code(code, field="policies")
        limits.items(self.policies, field="policies", max_items=MATCH_ITEMS_MAX, max_len=limits.NAME_MAX)
        limits.items(self.languages, field="languages", max_items=MATCH_ITEMS_MAX, max_len=limits.LANGUAGE_MAX)
        for hours in self.sla_hours:
            limits.int_range(hours, field="slaHours", low=1, high=SLA_HOURS_MAX)
        if list(self.sla_hours) != sorted(self.sla_hours):
            raise DomainError.invalid_input("SLA hours must not shrink as priority falls", "slaHours")
        limits.int_range(self.qa_sample_bp, field="qaSampleRate", low=0, high=QA_SAMPLE_BP_MAX)
        if self.routing_rank is not None:
            limits.int_range(self.routing_rank, field="routingRank", low=0, high=1_000_000)


@dataclass(kw_only=True)
class Queue:
    """Unique by (region, name); at most one default queue per (region, surface)."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    name: str
    surface: QueueSurface
    policies: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sla_urgent_hours: int = 4
    sla_high_hours: int = 12
    sla_medium_hours: int = 24
    sla_low_hours: int = 48
    roles: tuple[str, ...] = ()
    routing_rank: int | None = None
    is_default: bool = False
    escalation_queue_id: uuid.UUID | None = None
    qa_sample_bp: int = DEFAULT_QA_SAMPLE_BP
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def define(cls, *, region: Region, name: str, settings: QueueSettings, now: datetime) -> Queue:
        limits.text(name, field="name", max_len=limits.NAME_MAX)
        queue = cls(region=region, name=name, surface=settings.surface, created_at=now, updated_at=now)
        queue.configure(settings, now)
        return queue

    def configure(self, settings: QueueSettings, now: datetime) -> None:
        """Apply new settings (validated). The surface of a queue never changes."""
        settings.validate()
        if settings.surface is not self.surface:
            raise DomainError.invalid_input("a queue's surface cannot change", "surface")
        if settings.escalation_queue_id == self.id:
            raise DomainError.invalid_input("a queue cannot escalate to itself", "escalationQueueId")
        urgent, high, medium, low = settings.sla_hours
        new = (
            settings.policies, settings.languages, urgent, high, medium, low, settings.roles,
            settings.routing_rank, settings.is_default, settings.escalation_queue_id, settings.qa_sample_bp,
        )  # fmt: skip
        if new == self._settings():
            return
        (
            self.policies, self.languages, self.sla_urgent_hours, self.sla_high_hours, self.sla_medium_hours,
            self.sla_low_hours, self.roles, self.routing_rank, self.is_default, self.escalation_queue_id,
            self.qa_sample_bp,
        ) = new  # fmt: skip
        self.updated_at = now

    def _settings(self) -> tuple[object, ...]:
        return (
            self.policies, self.languages, self.sla_urgent_hours, self.sla_high_hours, self.sla_medium_hours,
            self.sla_low_hours, self.roles, self.routing_rank, self.is_default, self.escalation_queue_id,
            self.qa_sample_bp,
        )  # fmt: skip

    @property
    def sla(self) -> SlaTable:
        return SlaTable(
            bands=((80, self.sla_urgent_hours), (50, self.sla_high_hours), (20, self.sla_medium_hours),
                   (0, self.sla_low_hours))
        )  # fmt: skip

    def matches(self, case: Routable) -> bool:
        return (
            self.region is case.region
            and self.surface is case.surface
            and (not self.policies or case.policy_code in self.policies)
            and (not self.languages or case.language in self.languages)
        )

    def ensure_workable_by(self, roles: Iterable[str]) -> None:
        if not set(roles) & set(self.roles):
            needed = ", ".join(self.roles)
            raise DomainError.forbidden(f"queue {self.name} is worked by: {needed}", "queueId")


def route(queues: Iterable[Queue], case: Routable) -> Queue | None:
    """The first matching routing rule's queue, else the default queue of the case's region and surface."""
    candidates = list(queues)
    rules = sorted((q for q in candidates if q.routing_rank is not None), key=lambda q: (q.routing_rank or 0, q.name))
    for queue in rules:
        if queue.matches(case):
            return queue
    defaults = (q for q in candidates if q.is_default and q.region is case.region and q.surface is case.surface)
    return next(defaults, None)
