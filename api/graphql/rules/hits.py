"""``ruleHits``: what a rule matched, in SHADOW or LIVE, and what became of each action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.ids import to_global_id
from api.graphql.permissions import requires
from api.graphql.rules.queries import load_rule
from api.graphql.shared.common import Connection, connection
from authz.permissions import Permission
from domain.errors import DomainError
from persistence.pagination import Page
from persistence.rules import hit_page


@strawberry.type(
    description="One action of a hit: TAKEN, WITHHELD (shadow, daily cap, circuit breaker, snoozed, "
    "expired...), FAILED, SCHEDULED (a delayed action waiting for its due time) or DROPPED (a delayed action whose "
    "rule left LIVE or expired, or whose subject was snoozed, before it was due), and why."
)
class RuleHitAction:
    action: str
    outcome: str
    reason: str | None
    case_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Past a daily cap or circuit breaker, the case the subject was put in for a person instead.",
    )


@strawberry.type(description="A rule version matched an event.")
class RuleHit:
    id: strawberry.ID
    rule_version: int
    mode: str = strawberry.field(description="SHADOW (nothing done) or LIVE.")
    event_id: strawberry.ID | None
    event_occurred_at: datetime
    subject_kind: str | None
    subject_id: str | None = strawberry.field(description="The platform's id of the event's subject.")
    actions: list[RuleHitAction]
    created_at: datetime


def _action(stored: Any) -> RuleHitAction:
    case = stored.get("case_id")
    return RuleHitAction(
        action=stored["action"],
        outcome=stored["outcome"],
        reason=stored.get("reason"),
        case_id=None if case is None else strawberry.ID(to_global_id("Case", case)),
    )


def _hit(row: Any) -> RuleHit:
    actions = row["actions"] if isinstance(row["actions"], list) else []
    return RuleHit(
        id=strawberry.ID(to_global_id("RuleHit", row["id"])),
        rule_version=row["rule_version"],
        mode=row["mode"],
        event_id=None if row["event_id"] is None else strawberry.ID(to_global_id("PlatformEvent", row["event_id"])),
        event_occurred_at=row["event_occurred_at"],
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        actions=[_action(a) for a in actions],
        created_at=row["created_at"],
    )


@strawberry.type
class RuleHitQuery:
    @strawberry.field(
        extensions=requires(Permission.RULES_READ),
        description="A rule's hits, newest first: needs rules:read and cases:read in the rule's region (they name "
        "entities); null otherwise.",
    )
    async def rule_hits(
        self, info: Info, rule_id: strawberry.ID, first: int = 50, after: str | None = None
    ) -> Connection[RuleHit] | None:
        found = await load_rule(info, rule_id)
        if found is None or not info.context.permissions.allows(Permission.CASES_READ, found[0].region.value):
            return None
        try:
            async with info.context.sessions() as session:
                page = await hit_page(session, found[0].id, first=first, after=after)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        return connection(Page([_hit(r) for r in page.items], page.cursors, page.has_next, page.has_previous))
