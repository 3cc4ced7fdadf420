"""Writing rules: ``createRule`` (DRAFT, version 1), ``updateRule`` (a new version), ``transitionRule``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.ids import parse_id
from api.graphql.permissions import requires
from api.graphql.rules.types import Rule, RuleTextError, rule_of, rule_text_error
from api.graphql.runner import require_region, run
from api.graphql.shared.common import MutationError
from authz.permissions import Permission
from domain.actor import Actor
from domain.region import Region
from domain.rules import RuleError
from domain.services.rules import RuleSettings, RuleState, create_rule, transition_rule, update_rule
from persistence.repositories import PostgresUnitOfWork
from persistence.rules import SqlRuleStore


@strawberry.input(description="A new rule of a region, in DRAFT; its text says `in <region>`.")
class CreateRuleInput:
    region: Region
    source: str
    description: str | None = None
    daily_action_cap: int | None = None
    expires_at: datetime | None = None


@strawberry.input(description="A new version: the text (omitted: unchanged) and the settings (as given).")
class UpdateRuleInput:
    rule_id: strawberry.ID
    source: str | None = None
    description: str | None = None
    daily_action_cap: int | None = None
    expires_at: datetime | None = None


@strawberry.input(
    description="DRAFT -> SHADOW -> LIVE -> DISABLED; LIVE -> SHADOW, SHADOW -> DRAFT, DISABLED -> DRAFT."
)
class TransitionRuleInput:
    rule_id: strawberry.ID
    state: RuleState


@strawberry.type
class RuleSuccess:
    rule: Rule


RuleResult = Annotated[RuleSuccess | RuleTextError | MutationError, strawberry.union("RuleResult")]


def _settings(description: str | None, cap: int | None, expires_at: datetime | None) -> RuleSettings:
    return RuleSettings(description=description, daily_action_cap=cap, expires_at=expires_at)


@strawberry.type
class RuleMutation:
    @strawberry.mutation(extensions=requires(Permission.RULES_WRITE), description="A new rule, in DRAFT.")
    async def create_rule(self, info: Info, input: CreateRuleInput) -> RuleResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> RuleSuccess | RuleTextError:
            require_region(info.context, Permission.RULES_WRITE, input.region.value)
            settings = _settings(input.description, input.daily_action_cap, input.expires_at)
            try:
                rule, version = await create_rule(
                    SqlRuleStore(uow),
                    region=input.region,
                    source=input.source,
                    settings=settings,
                    author_id=actor.id,
                    now=datetime.now(UTC),
                )
            except RuleError as exc:
                return rule_text_error(exc)
            return RuleSuccess(rule=rule_of(rule, version))

        return await run(info, "createRule", Permission.RULES_WRITE, command)

    @strawberry.mutation(extensions=requires(Permission.RULES_WRITE), description="A new version of a rule.")
    async def update_rule(self, info: Info, input: UpdateRuleInput) -> RuleResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> RuleSuccess | RuleTextError:
            rule_id = parse_id(input.rule_id, "Rule", field="ruleId")
            try:
                rule, version = await update_rule(
                    SqlRuleStore(uow),
                    rule_id=rule_id,
                    source=input.source,
                    settings=_settings(input.description, input.daily_action_cap, input.expires_at),
                    author_id=actor.id,
                    now=datetime.now(UTC),
                )
            except RuleError as exc:
                return rule_text_error(exc)
            return RuleSuccess(rule=rule_of(rule, version))

        return await run(info, "updateRule", Permission.RULES_WRITE, command)

    @strawberry.mutation(extensions=requires(Permission.RULES_WRITE), description="Move a rule through its lifecycle.")
    async def transition_rule(self, info: Info, input: TransitionRuleInput) -> RuleResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> RuleSuccess | RuleTextError:
            rule_id = parse_id(input.rule_id, "Rule", field="ruleId")
            try:
                rule, version = await transition_rule(
                    SqlRuleStore(uow), rule_id=rule_id, to=input.state, author_id=actor.id, now=datetime.now(UTC)
                )
            except RuleError as exc:
                return rule_text_error(exc)
            return RuleSuccess(rule=rule_of(rule, version))

        return await run(info, "transitionRule", Permission.RULES_WRITE, command)
