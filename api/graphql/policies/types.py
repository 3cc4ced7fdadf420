"""The records of policies: Policy, PolicyVersion, and the strike ladder versions (StrikeLadder)."""

from __future__ import annotations

from datetime import datetime

import strawberry

import api.graphql.shared.enums  # noqa: F401  (registers the domain enums)
from api.graphql.context import Info
from api.graphql.shared.build import build, many
from api.graphql.shared.node import Node
from domain.enforcement import ActionKind
from domain.ladder import LadderStep
from domain.policy import Policy as PolicyEntity
from domain.policy import PolicyVersion as PolicyVersionEntity
from domain.policy import Severity
from domain.region import Region
from domain.strike_ladder import LadderVersion, decode_step
from domain.subject import Surface


@strawberry.type(description="A platform rule. Policies are global: `region` is null.")
class Policy(Node):
    entity: strawberry.Private[PolicyEntity]
    region: Region | None
    code: str
    name: str
    surface: Surface
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The number of the version in force.")
    def current_version_number(self) -> int:
        return self.entity.current_version

    @strawberry.field(description="The version in force: what a decision made now cites.")
    async def current_version(self, info: Info) -> PolicyVersion:
        versions = await info.context.loaders.versions_by_policy.load(self.entity.id)
        return build(PolicyVersion, next(v for v in versions if v.number == self.entity.current_version))

    @strawberry.field(description="Every published version, oldest first.")
    async def versions(self, info: Info) -> list[PolicyVersion]:
        return many(info, PolicyVersion, await info.context.loaders.versions_by_policy.load(self.entity.id))


@strawberry.type(description="One published, immutable version of a policy.")
class PolicyVersion(Node):
    entity: strawberry.Private[PolicyVersionEntity]
    region: Region | None
    number: int
    severity: Severity
    strike_weight: int
    strike_ttl_days: int
    dsa_category: str
    description: str
    published_at: datetime
    published_by: str

    @strawberry.field
    async def policy(self, info: Info) -> Policy:
        found = await info.context.loaders.policy.load(self.entity.policy_id)
        assert found is not None
        return build(Policy, found)


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
