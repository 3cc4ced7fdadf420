"""Strike ladders as data: defining a region's ladder for a surface (its next version) and finding the one in
force."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.actor import Actor
from domain.config import DomainConfig
from domain.ladder import LadderStep, StrikeLadder, ladder_for
from domain.ports import UnitOfWork
from domain.region import Region
from domain.strike_ladder import LadderVersion, build_ladder
from domain.subject import Surface


@dataclass(frozen=True)
class DefineStrikeLadder:
    region: Region
    surface: Surface
    steps: tuple[LadderStep, ...]
    severe_step: LadderStep | None
    window_days: int
    counted_surfaces: tuple[Surface, ...] = ()


async def define_strike_ladder(uow: UnitOfWork, actor: Actor, cmd: DefineStrikeLadder) -> LadderVersion:
    """Publish the next version of the region's ladder for ``surface`` (earlier versions stay as they were)."""
    ladder = build_ladder(
        surfaces=cmd.counted_surfaces or (cmd.surface,),
        steps=cmd.steps,
        window_days=cmd.window_days,
        severe_step=cmd.severe_step,
    )
    current = await uow.strike_ladders.in_force(cmd.region, cmd.surface)
    version = LadderVersion.publish(
        region=cmd.region,
        surface=cmd.surface,
        number=1 if current is None else current.number + 1,
        ladder=ladder,
        published_by=actor.id,
        now=uow.clock.now(),
    )
    uow.strike_ladders.add(version)
    return version


async def ladder_in_force(
    uow: UnitOfWork, region: Region, surface: Surface, config: DomainConfig
) -> tuple[StrikeLadder | None, uuid.UUID | None]:
    """The ladder that applies to a strike of ``surface`` in ``region``, and its version's id: the region's
    latest version, else the default of ``config`` (no version to cite)."""
    stored = await uow.strike_ladders.in_force(region, surface)
    if stored is not None:
        return stored.ladder, stored.id
    return ladder_for(config.ladders, surface), None
