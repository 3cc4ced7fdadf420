"""Automation's root field: `automationRules`."""

from __future__ import annotations

import strawberry

from api.graphql.automation.types import AutomationRule, rule_of
from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.ids import parse_id
from api.graphql.permissions import requires
from api.graphql.shared.common import Connection, connection
from api.graphql.shared.listing import visible_regions
from authz.permissions import Permission
from domain.errors import DomainError
from domain.region import Region
from persistence.pagination import Page
from persistence.queries import reads
from persistence.repositories import AUTOMATION_RULES


@strawberry.input
class AutomationRuleFilter:
    region: Region | None = None
    policy_id: strawberry.ID | None = None


@strawberry.type
class AutomationQuery:
    @strawberry.field(extensions=requires(Permission.POLICIES_READ), description="Automation rules, oldest first.")
    async def automation_rules(
        self, info: Info, first: int = 50, after: str | None = None, filter: AutomationRuleFilter | None = None
    ) -> Connection[AutomationRule] | None:
        f = filter or AutomationRuleFilter()
        regions = visible_regions(info.context, Permission.POLICIES_READ, f.region)
        try:
            policy = parse_id(f.policy_id, "Policy", field="filter.policyId") if f.policy_id is not None else None
            where = [AUTOMATION_RULES.table.c.policy_id == policy] if policy is not None else []
            async with info.context.sessions() as session:
                page = await reads.page(
                    session, AUTOMATION_RULES, where=where, regions=regions, first=first, after=after
                )
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        return connection(Page([rule_of(r) for r in page.items], page.cursors, page.has_next, page.has_previous))
