"""Policies: define a policy, or publish its next version (old decisions keep citing their version)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.permissions import requires
from api.graphql.runner import run
from api.graphql.types.common import MutationError
from api.graphql.types.nodes import Policy, PolicyVersion, build
from authz.permissions import Permission
from authz.roles import GLOBAL_REGION
from domain.actor import Actor
from domain.errors import DomainError
from domain.policy import DEFAULT_STRIKE_TTL_DAYS, Severity
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
