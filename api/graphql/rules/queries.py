"""Reading rules: ``rules`` (a connection, newest first), ``rule(id)`` and ``ruleVersions(ruleId)``."""

from __future__ import annotations

import uuid

import strawberry

from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.ids import parse_any
from api.graphql.permissions import requires
from api.graphql.rules.types import Rule, RuleVersion, rule_of, version_of
from api.graphql.shared.common import Connection, connection
from api.graphql.shared.listing import visible_regions
from authz.permissions import Permission
from domain.errors import DomainError
from domain.region import Region
from domain.services.rules import Rule as RuleEntity
from domain.services.rules import RuleState
from domain.services.rules import RuleVersion as RuleVersionEntity
from persistence.pagination import Page
from persistence.rules import current_versions, rule_by_id, rule_page, versions_of


@strawberry.input
class RuleFilter:
    region: Region | None = None
    states: list[RuleState] | None = None


async def load_rule(info: Info, global_id: str) -> tuple[RuleEntity, RuleVersionEntity] | None:
    """The rule if the caller may read it where it lives (else None, as if it did not exist)."""
    parsed = parse_any(global_id)
    if parsed is None or parsed[0] != "Rule":
        return None
    try:
        rule_id = uuid.UUID(parsed[1])
    except ValueError:
        return None
    async with info.context.sessions() as session:
        found = await rule_by_id(session, rule_id)
    if found is None or not info.context.permissions.allows(Permission.RULES_READ, found[0].region.value):
        return None
    return found


@strawberry.type
class RuleQuery:
    @strawberry.field(extensions=requires(Permission.RULES_READ), description="Enforcement rules, newest first.")
    async def rules(
        self, info: Info, first: int = 50, after: str | None = None, filter: RuleFilter | None = None
    ) -> Connection[Rule] | None:
        f = filter or RuleFilter()
        regions = visible_regions(info.context, Permission.RULES_READ, f.region)
        try:
            async with info.context.sessions() as session:
                page = await rule_page(session, regions=regions, states=f.states or [], first=first, after=after)
                current = await current_versions(session, page.items)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        items = [rule_of(r, current[r.id]) for r in page.items]
        return connection(Page(items, page.cursors, page.has_next, page.has_previous))

    @strawberry.field(extensions=requires(Permission.RULES_READ), description="A rule by its ID (null if unseen).")
    async def rule(self, info: Info, id: strawberry.ID) -> Rule | None:
        found = await load_rule(info, id)
        return None if found is None else rule_of(*found)

    @strawberry.field(extensions=requires(Permission.RULES_READ), description="Every version of a rule, newest first.")
    async def rule_versions(self, info: Info, rule_id: strawberry.ID) -> list[RuleVersion] | None:
        found = await load_rule(info, rule_id)
        if found is None:
            return None
        async with info.context.sessions() as session:
            return [version_of(v) for v in await versions_of(session, found[0].id)]
