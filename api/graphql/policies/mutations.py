"""Policies' mutations: define a policy or publish its next version, and publish the next version of a region's
strike ladder for a surface (old decisions keep citing the versions they applied)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.permissions import requires
from api.graphql.policies.types import Policy, PolicyVersion, StrikeLadder, ladder_of
from api.graphql.runner import require_region, run
from api.graphql.shared.build import build
from api.graphql.shared.common import MutationError
from authz.permissions import Permission
from authz.roles import GLOBAL_REGION
from domain.actor import Actor
from domain.enforcement import ActionKind
from domain.errors import DomainError
from domain.ladder import LadderStep
from domain.policy import DEFAULT_STRIKE_TTL_DAYS, Severity
from domain.region import Region
from domain.services.ladder import DefineStrikeLadder, define_strike_ladder
from domain.services.policy import DefinePolicy, define_policy
from domain.subject import Surface
from persistence.repositories import PostgresUnitOfWork


@strawberry.input(description="A new policy (version 1), or the next version of an existing code.")
class DefinePolicyInput:
    code: str = strawberry.field(description="e.g. HATE_SPEECH: upper case, digits and underscores.")
    name: str
    surface: Surface
    severity: Severity
    dsa_category: str = strawberry.field(
        description="The EU DSA statement-of-reasons category it maps to: a STATEMENT_CATEGORY_... value of the DSA "
        "Transparency Database (anything else is INVALID_INPUT)."
    )
    description: str
    strike_weight: int = 1
    strike_ttl_days: int = DEFAULT_STRIKE_TTL_DAYS
    dsa_keywords: list[str] | None = strawberry.field(
        default=None,
        description="The DSA keywords (category_specification, KEYWORD_... values) its statements carry.",
    )
    guidelines_url: str | None = strawberry.field(
        default=None,
        description="Where the published rule can be read (http(s), at most 500 characters): the DSA statements' "
        "decision_ground_reference_url.",
    )


@strawberry.type
class DefinePolicySuccess:
    policy: Policy
    version: PolicyVersion


DefinePolicyResult = Annotated[DefinePolicySuccess | MutationError, strawberry.union("DefinePolicyResult")]


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
class PolicyMutation:
    @strawberry.mutation(extensions=requires(Permission.POLICIES_PUBLISH))
    async def define_policy(self, info: Info, input: DefinePolicyInput) -> DefinePolicyResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> DefinePolicySuccess:
            # Policies are global (region null) and every region's decisions cite them: defining one or publishing
            # its next version needs the permission in every region, not in some.
            if not info.context.permissions.allows(Permission.POLICIES_PUBLISH, GLOBAL_REGION):
                raise DomainError.forbidden(
                    "policies are global: publishing one needs policies:publish in every region (*)", field="code"
                )
            cmd = DefinePolicy(
                code=input.code,
                name=input.name,
                surface=input.surface,
                severity=input.severity,
                dsa_category=input.dsa_category,
                description=input.description,
                strike_weight=input.strike_weight,
                strike_ttl_days=input.strike_ttl_days,
                dsa_keywords=tuple(input.dsa_keywords or ()),
                guidelines_url=input.guidelines_url,
            )
            defined = await define_policy(uow, actor, cmd)
            return DefinePolicySuccess(
                policy=build(Policy, defined.policy), version=build(PolicyVersion, defined.version)
            )

        return await run(info, "definePolicy", Permission.POLICIES_PUBLISH, command)


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
