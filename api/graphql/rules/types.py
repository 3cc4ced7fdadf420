"""The rule record, its versions, and the typed error of a rule text the language refuses."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.context import Info
from api.graphql.ids import to_global_id
from api.graphql.shared.common import Error
from api.graphql.shared.node import Node
from domain.errors import ErrorCode
from domain.region import Region
from domain.rules import RuleError, RuleErrorCode
from domain.services.rules import Rule as RuleEntity
from domain.services.rules import RuleState
from domain.services.rules import RuleVersion as RuleVersionEntity
from persistence.delayed_actions import pending_count

strawberry.enum(
    RuleState,
    description="DRAFT (nothing runs), SHADOW (hits recorded, nothing done), LIVE (actions run), DISABLED.",
)
strawberry.enum(RuleErrorCode, description="Why the rules language refused a rule text.")


@strawberry.type(description="One version of a rule: every change (text, settings, state) is a new one.")
class RuleVersion:
    entity: strawberry.Private[RuleVersionEntity]
    number: int
    state: RuleState
    source: str = strawberry.field(description="The rule text (docs/RULES.md).")
    description: str | None
    daily_action_cap: int | None = strawberry.field(description="LIVE actions per UTC day; past it, hits only.")
    expires_at: datetime | None
    author_id: str
    created_at: datetime

    @strawberry.field
    def policy_id(self) -> strawberry.ID | None:
        policy = self.entity.policy_id
        return None if policy is None else strawberry.ID(to_global_id("Policy", policy))


def version_of(entity: RuleVersionEntity) -> RuleVersion:
    return RuleVersion(
        entity=entity,
        number=entity.number,
        state=entity.state,
        source=entity.source,
        description=entity.description,
        daily_action_cap=entity.daily_action_cap,
        expires_at=entity.expires_at,
        author_id=entity.author_id,
        created_at=entity.created_at,
    )


@strawberry.type(description="An enforcement rule of one region, at its version in force.")
class Rule(Node):
    entity: strawberry.Private[RuleEntity]
    current: strawberry.Private[RuleVersionEntity]
    region: Region
    name: str
    state: RuleState
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The version in force.")
    def current_version(self) -> RuleVersion:
        return version_of(self.current)

    @strawberry.field(description="Delayed actions of its hits (`delay(...)`) waiting for their due time.")
    async def pending_delayed_actions(self, info: Info) -> int:
        if info.context.pool is None:
            raise RuntimeError("pending delayed actions need the app's connection pool")
        return await pending_count(info.context.pool, self.entity.id)


def rule_of(entity: RuleEntity, current: RuleVersionEntity) -> Rule:
    return Rule(
        id=strawberry.ID(to_global_id("Rule", entity.id)),
        entity=entity,
        current=current,
        region=entity.region,
        name=entity.name,
        state=entity.state,
        created_at=entity.created_at,
        updated_at=entity.updated_at,
    )


@strawberry.type(description="The rules language refused the text: `ruleCode` says why, `line`/`column` where.")
class RuleTextError(Error):
    rule_code: RuleErrorCode
    line: int = strawberry.field(description="1-based; 0 when the error has no position.")
    column: int


def rule_text_error(exc: RuleError) -> RuleTextError:
    return RuleTextError(
        code=ErrorCode.INVALID_INPUT,
        message=exc.message,
        field="source",
        rule_code=exc.code,
        line=exc.line,
        column=exc.column,
    )
