"""Tunable rules. Services take a ``DomainConfig``; defaults below. ``ladders`` apply where a region has no stored
ladder version for a surface (``domain.services.ladder.ladder_in_force``): policy managers change ladders as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from domain.ladder import DEFAULT_LADDERS, StrikeLadder
from domain.sla import DEFAULT_SLA, SlaTable


@dataclass(frozen=True)
class DomainConfig:
    ladders: tuple[StrikeLadder, ...] = DEFAULT_LADDERS
    appeal_window: timedelta = timedelta(days=180)
    claim_lease: timedelta = timedelta(minutes=15)
    sla: SlaTable = field(default_factory=lambda: DEFAULT_SLA)


DEFAULT_CONFIG = DomainConfig()
