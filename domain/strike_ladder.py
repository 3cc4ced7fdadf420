"""Strike ladder versions: the ladder of one region and policy surface, as data a policy manager changes.

Versioned like policies: defining a ladder publishes its next ``number`` (1, 2, ...) for the (region, surface);
a published version never changes, the highest number is in force, and a decision cites the version it applied
(``Decision.ladder_version_id``), so a later change never rewrites what an earlier decision did. The steps are
``domain.ladder.StrikeLadder`` values, stored encoded (``"<threshold>:<KIND>[:<days>]"``) so the row stays flat.
``counted_surfaces``: the surfaces whose strikes count toward it (the content ladder counts account strikes too).
Where no version exists, the defaults of ``domain.ladder`` apply (migration 0008 seeds them as version 1).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from domain import limits
from domain.enforcement import DURATION_FORBIDDEN, DURATION_REQUIRED, TARGET_KIND, ActionKind
from domain.errors import DomainError
from domain.ladder import LadderStep, StrikeLadder
from domain.region import Region
from domain.subject import SubjectKind, Surface

STEPS_MAX: Final = 10
WINDOW_DAYS_MAX: Final = 3_650


def encode_step(step: LadderStep) -> str:
    days = "" if step.duration_days is None else f":{step.duration_days}"
    return f"{step.threshold}:{step.action.value}{days}"


def decode_step(encoded: str) -> LadderStep:
    threshold, kind, *days = encoded.split(":")
    return LadderStep(int(threshold), ActionKind(kind), int(days[0]) if days else None)


def validate_step(step: LadderStep, *, field: str) -> None:
    """A ladder penalises the account: an account action, with a duration exactly where its kind needs one."""
    if TARGET_KIND[step.action] is not SubjectKind.ACCOUNT:
        raise DomainError.invalid_input(f"{step.action.value} is not an account action", field)
    if step.action in DURATION_REQUIRED and step.duration_days is None:
        raise DomainError.invalid_input(f"{step.action.value} needs durationDays", field)
    if step.action in DURATION_FORBIDDEN and step.duration_days is not None:
        raise DomainError.invalid_input(f"{step.action.value} takes no durationDays", field)
    if step.duration_days is not None:
        limits.int_range(step.duration_days, field=field, low=1, high=limits.ACTION_DURATION_DAYS_MAX)


@dataclass(kw_only=True)
class LadderVersion:
    """One published, immutable version of a region's ladder for one surface; unique by (region, surface,
    number)."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    surface: Surface
    number: int
    counted_surfaces: tuple[Surface, ...]
    steps: tuple[str, ...]
    severe_step: str | None
    window_days: int
    published_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def publish(
        cls, *, region: Region, surface: Surface, number: int, ladder: StrikeLadder, published_by: str, now: datetime
    ) -> LadderVersion:
        if not ladder.covers(surface):
            raise DomainError.invalid_input("a ladder counts the strikes of its own surface", "countedSurfaces")
        if not 1 <= len(ladder.steps) <= STEPS_MAX:
            raise DomainError.invalid_input(f"a ladder has 1 to {STEPS_MAX} steps", "steps")
        for i, step in enumerate(ladder.steps):
            validate_step(step, field=f"steps[{i}]")
        if ladder.severe_step is not None:
            validate_step(ladder.severe_step, field="severeStep")
        limits.int_range(ladder.window_days, field="windowDays", low=1, high=WINDOW_DAYS_MAX)
        return cls(
            region=region,
            surface=surface,
            number=number,
            counted_surfaces=tuple(sorted(set(ladder.surfaces))),
            steps=tuple(encode_step(s) for s in ladder.steps),
            severe_step=None if ladder.severe_step is None else encode_step(ladder.severe_step),
            window_days=ladder.window_days,
            published_by=published_by,
            created_at=now,
            updated_at=now,
        )

    @property
    def ladder(self) -> StrikeLadder:
        return StrikeLadder(
            surfaces=self.counted_surfaces,
            steps=tuple(decode_step(s) for s in self.steps),
            window_days=self.window_days,
            severe_step=None if self.severe_step is None else decode_step(self.severe_step),
        )


def build_ladder(
    *,
    surfaces: tuple[Surface, ...],
    steps: tuple[LadderStep, ...],
    window_days: int,
    severe_step: LadderStep | None,
) -> StrikeLadder:
    """A ladder from a policy manager's input: INVALID_INPUT (``steps``) unless thresholds ascend from 1."""
    try:
        return StrikeLadder(surfaces=surfaces, steps=steps, window_days=window_days, severe_step=severe_step)
    except ValueError as error:
        raise DomainError.invalid_input(str(error), "steps") from error
