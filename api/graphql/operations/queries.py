"""Operations' root fields: `queues` and `moderationMetrics`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

import api.graphql.shared.enums  # noqa: F401  (registers the domain enums)
from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.ids import parse_id
from api.graphql.operations.types import ModerationMetrics, Queue, metrics_of, queue_of
from api.graphql.permissions import requires
from api.graphql.shared.access import check_metrics_window
from api.graphql.shared.common import Connection, connection
from api.graphql.shared.listing import visible_regions
from authz.permissions import Permission
from domain.errors import DomainError
from domain.queue import QueueSurface
from domain.region import Region
from persistence import operations as ops
from persistence.pagination import Page
from persistence.queries import reads
from persistence.repositories import QUEUES


@strawberry.input
class QueueFilter:
    region: Region | None = None
    surface: QueueSurface | None = None


@strawberry.type
class OperationsQuery:
    @strawberry.field(extensions=requires(Permission.QUEUES_READ), description="Queues, oldest first.")
    async def queues(
        self, info: Info, first: int = 50, after: str | None = None, filter: QueueFilter | None = None
    ) -> Connection[Queue] | None:
        f = filter or QueueFilter()
        where = [QUEUES.table.c.surface == f.surface] if f.surface is not None else []
        regions = visible_regions(info.context, Permission.QUEUES_READ, f.region)
        try:
            async with info.context.sessions() as session:
                page = await reads.page(session, QUEUES, where=where, regions=regions, first=first, after=after)
                backlog = await ops.qa_backlog(session, [q.id for q in page.items])
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        nodes = [queue_of(q, backlog[q.id]) for q in page.items]
        return connection(Page(nodes, page.cursors, page.has_next, page.has_previous))

    @strawberry.field(
        extensions=requires(Permission.METRICS_READ),
        description="Inflow, backlog by age, SLA adherence, time to decision, decisions by verdict and policy, "
        "appeal and overturn rates, QA agreement per moderator and vendor, automated vs human share; for "
        "one region (and optionally one queue) over [from, to). Each figure is one SQL aggregate.",
    )
    async def moderation_metrics(
        self,
        info: Info,
        region: Region,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        queue: strawberry.ID | None = None,
    ) -> ModerationMetrics | None:
        context = info.context
        check_metrics_window(context, region, from_, to)
        try:
            queue_id = parse_id(queue, "Queue", field="queue") if queue is not None else None
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        window = ops.Window(region=region.value, start=from_, end=to, queue_id=queue_id)
        staff_names = context.permissions.allows(Permission.TOKENS_READ, region.value)  # who may read staff
        async with context.sessions() as session:
            metrics = await ops.moderation_metrics(session, window, datetime.now(UTC))
        return metrics_of(metrics, staff_names=staff_names)
