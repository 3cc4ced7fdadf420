"""The audit area's root fields: `auditEvents` and `verifyAuditTrail`."""

from __future__ import annotations

import strawberry

from api.graphql.audit.types import AuditEventFilter, AuditTrailVerification, verification
from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.permissions import requires
from api.graphql.shared.common import Connection
from api.graphql.shared.history import AuditEvent, events_connection, readable_regions
from authz.permissions import Permission
from domain.errors import DomainError
from persistence import audit
from persistence.queries import audit as audit_queries
from persistence.queries.audit import AuditFilter


@strawberry.type
class AuditQuery:
    @strawberry.field(
        extensions=requires(Permission.AUDIT_READ),
        description="The audit trail, newest first, within your regions (security events need every region).",
    )
    async def audit_events(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        filter: AuditEventFilter | None = None,
    ) -> Connection[AuditEvent] | None:
        regions = readable_regions(info)
        flt = filter.to_filter() if filter is not None else AuditFilter()
        try:
            async with info.context.sessions() as session:
                page = await audit_queries.list_events(session, regions, flt, first=first, after=after)
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        return events_connection(page)

    @strawberry.field(
        extensions=requires(Permission.AUDIT_READ),
        description="Re-check the whole hash chain: every sealed event's hash and its link to the previous one.",
    )
    async def verify_audit_trail(self, info: Info) -> AuditTrailVerification | None:
        readable_regions(info)
        async with info.context.sessions() as session:
            result = await audit.verify(session)
        return verification(result)
