"""The Appeal record: an account owner contests a decision."""

from __future__ import annotations

from datetime import datetime

import strawberry

import api.graphql.shared.enums  # noqa: F401  (registers the domain enums)
from api.graphql.context import Info
from api.graphql.ids import to_global_id
from api.graphql.permissions import requires
from api.graphql.shared.build import one
from api.graphql.shared.common import Connection
from api.graphql.shared.history import HISTORY_DESCRIPTION, AuditEvent, history_for
from api.graphql.shared.node import Node
from api.graphql.shared.refs import AccountRef, DecisionRef
from authz.permissions import Permission
from domain.appeal import Appeal as AppealEntity
from domain.appeal import AppealState
from domain.region import Region


@strawberry.type(description="An account owner contests a decision.")
class Appeal(Node):
    entity: strawberry.Private[AppealEntity]
    region: Region
    statement: str
    filed_by: str
    state: AppealState
    filed_at: datetime
    decided_at: datetime | None
    decider_id: str | None
    rationale: str | None
    sla_due_at: datetime | None = strawberry.field(
        description="Decide by then: its APPEALS queue's SLA (the queue's high band); null when unqueued."
    )
    assignee_id: str | None = strawberry.field(description="Who holds (or last held) the claim on it.")
    lease_expires_at: datetime | None = strawberry.field(
        description="The claim lapses back to the queue then; null or past: free to claim."
    )

    @strawberry.field(description="The ID of the APPEALS queue it waits in; null when no such queue existed.")
    def queue_id(self) -> strawberry.ID | None:
        queue = self.entity.queue_id
        return None if queue is None else strawberry.ID(to_global_id("Queue", queue))

    @strawberry.field
    async def decision(self, info: Info) -> DecisionRef | None:
        found = await info.context.loaders.decision.load(self.entity.decision_id)
        return one(info, DecisionRef, found)

    @strawberry.field
    async def appellant(self, info: Info) -> AccountRef | None:
        found = await info.context.loaders.account.load(self.entity.appellant_account_id)
        return one(info, AccountRef, found)

    @strawberry.field(description=HISTORY_DESCRIPTION, extensions=requires(Permission.AUDIT_READ))
    async def history(self, info: Info, first: int = 20, after: str | None = None) -> Connection[AuditEvent] | None:
        return await history_for(info, "Appeal", self.entity.id, first, after)
