"""Strike ladders as data: `strikeLadders` (every version, per region and surface) and `defineStrikeLadder`
(publish a region's next version for a surface; decisions cite the version they applied)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.permissions import requires
from api.graphql.queries import visible_regions
from api.graphql.runner import require_region, run
from api.graphql.types.common import Connection, MutationError, connection
from api.graphql.types.nodes import build
from authz.permissions import Permission
from domain.actor import Actor
from domain.enforcement import ActionKind
from domain.errors import DomainError
from domain.ladder import LadderStep
from domain.region import Region
from domain.services.ladder import DefineStrikeLadder, define_strike_ladder
from domain.strike_ladder import LadderVersion, decode_step
from domain.subject import Surface
from persistence.pagination import Page
from persistence.queries import filters as q
from persistence.queries import listing
from persistence.repositories import PostgresUnitOfWork


@strawberry.type(description="At `threshold` active strike weight: apply `action` for `durationDays` (null: no end).")
class StrikeLadderStep:
    threshold: int
    action: ActionKind
    duration_days: int | None


def _step(step: LadderStep) -> StrikeLadderStep:
    return StrikeLadderStep(threshold=step.threshold, action=step.action, duration_days=step.duration_days)


@strawberry.type(
    description="One published version of a region's strike ladder for a policy surface. The highest number is "
    "in force; decisions cite the version they applied (`Decision.ladderVersion`). Unique by (region, surface, "
    "number)."
)
class StrikeLadder:
    id: strawberry.ID
    entity: strawberry.Private[LadderVersion]
    region: Region
    surface: Surface
    number: int
    counted_surfaces: list[Surface] = strawberry.field(description="Whose strikes count toward this ladder.")
    window_days: int = strawberry.field(description="Strikes issued within this many days count.")
    published_by: str
    created_at: datetime
    version: int

    @strawberry.field(description="Ascending thresholds: the highest one reached applies.")
    def steps(self) -> list[StrikeLadderStep]:
        return [_step(decode_step(s)) for s in self.entity.steps]

    @strawberry.field(description="Applied at once for a strike of a SEVERE policy version (null: none).")
    def severe_step(self) -> StrikeLadderStep | None:
        return None if self.entity.severe_step is None else _step(decode_step(self.entity.severe_step))


def ladder_of(entity: LadderVersion) -> StrikeLadder:
    return build(StrikeLadder, entity)


@strawberry.input
class StrikeLadderFilter:
    region: Region | None = None
    surface: Surface | None = None


@strawberry.input
class StrikeLadderStepInput:
    threshold: int = strawberry.field(description="At least 1; ascending across steps.")
    action: ActionKind = strawberry.field(description="An account action (WARN, RESTRICT_FEATURES, ...).")
    duration_days: int | None = None


@strawberry.input(description="The next version of a region's ladder for a surface.")
class DefineStrikeLadderInput:
    region: Region
    surface: Surface
    steps: list[StrikeLadderStepInput] = strawberry.field(description="1 to 10, thresholds ascending from 1.")
    severe_step: StrikeLadderStepInput | None = strawberry.field(
        default=None, description="Applied at once for a SEVERE policy's strike; its threshold is ignored."
    )
    window_days: int = 90
    counted_surfaces: list[Surface] | None = strawberry.field(
        default=None, description="Whose strikes count (default: the surface's own; it must be among them)."
    )


@strawberry.type
class DefineStrikeLadderSuccess:
    strike_ladder: StrikeLadder


DefineStrikeLadderResult = Annotated[
    DefineStrikeLadderSuccess | MutationError, strawberry.union("DefineStrikeLadderResult")
]


def _ladder_step(step: StrikeLadderStepInput) -> LadderStep:
    return LadderStep(step.threshold, step.action, step.duration_days)


def _severe(step: StrikeLadderStepInput | None) -> LadderStep | None:
    return None if step is None else LadderStep(0, step.action, step.duration_days)


@strawberry.type
class LadderQuery:
    @strawberry.field(
        extensions=requires(Permission.LADDERS_READ),
        description="Strike ladder versions in your regions, oldest first (the highest number per region and "
        "surface is in force).",
    )
    async def strike_ladders(
        self, info: Info, first: int = 50, after: str | None = None, filter: StrikeLadderFilter | None = None
    ) -> Connection[StrikeLadder] | None:
        f = filter or StrikeLadderFilter()
        regions = visible_regions(info.context, Permission.LADDERS_READ, f.region)
        request = q.PageRequest(first=first, after=after, regions=regions)
        source = listing.Source(info.context.pool, info.context.sessions)
        try:
            page = await listing.strike_ladders(source, q.StrikeLadderFilter(surface=f.surface), request)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        return connection(Page([ladder_of(v) for v in page.items], page.cursors, page.has_next, page.has_previous))


@strawberry.type
class LadderMutation:
    @strawberry.mutation(
        extensions=requires(Permission.LADDERS_DEFINE),
        description="Publish the next version of the region's strike ladder for a surface; earlier decisions keep "
        "citing the version they applied.",
    )
    async def define_strike_ladder(self, info: Info, input: DefineStrikeLadderInput) -> DefineStrikeLadderResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> DefineStrikeLadderSuccess:
            require_region(info.context, Permission.LADDERS_DEFINE, input.region.value)
            cmd = DefineStrikeLadder(
                region=input.region,
                surface=input.surface,
                steps=tuple(_ladder_step(s) for s in input.steps),
                severe_step=_severe(input.severe_step),
                window_days=input.window_days,
                counted_surfaces=tuple(input.counted_surfaces or ()),
            )
            version = await define_strike_ladder(uow, actor, cmd)
            await uow.flush()
            return DefineStrikeLadderSuccess(strike_ladder=ladder_of(version))

        return await run(info, "defineStrikeLadder", Permission.LADDERS_DEFINE, command)
