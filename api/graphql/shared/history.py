"""The `history` field of audited records (Account, Content, Ad, Case, Appeal): their audit events as
`AuditEvent`s (the type `auditEvents` lists too, `api.graphql.audit`), batched per request. Reading them needs
`audit:read` and shows only the reader's regions."""

from __future__ import annotations

import uuid
import warnings
from datetime import datetime
from typing import TYPE_CHECKING, NewType, TypeAlias

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.errors import BadRequest, Forbidden, Unauthenticated
from api.graphql.ids import to_global_id
from api.graphql.shared.common import Connection, connection
from api.graphql.shared.node import Node
from authz.permissions import Permission
from domain.errors import DomainError
from persistence.pagination import Page
from persistence.queries import audit as audit_queries
from persistence.queries.audit import AuditEventRow, HistoryKey, Regions

if TYPE_CHECKING:
    BigInt: TypeAlias = int
else:
    # Strawberry prefers StrawberryConfig.scalar_map for new scalars; until the schema config has one, the
    # scalar is declared here (the legacy form), beside the audit events it numbers.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        BigInt = strawberry.scalar(
            NewType("BigInt", int),
            serialize=int,
            parse_value=int,
            description="A 64-bit integer, as a JSON number (exact up to 2^53).",
        )


HISTORY_DESCRIPTION = (
    "This record's audit events, oldest first. Needs audit:read: without it this field alone is null, with a "
    "FORBIDDEN error at its path."
)


@strawberry.type(description="One entry of the audit trail: who did what to which subject, when, and why.")
class AuditEvent(Node):
    sequence: BigInt = strawberry.field(description="Position in the log: events are numbered as written.")
    occurred_at: datetime
    actor_kind: str = strawberry.field(description="STAFF, PARTNER, SYSTEM or AUTOMATION.")
    actor_id: str = strawberry.field(description="Principal id (`token:<id>` for a partner token).")
    action: str = strawberry.field(description="The operation, e.g. `decideCase`, or `security.forbidden`.")
    subject_kind: str = strawberry.field(description="Case, Account, Content, Ad, Appeal, ... or Mutation.")
    subject_id: str = strawberry.field(description="The subject's raw id (a UUID; a field name for Mutation).")
    region: str | None = strawberry.field(description="The data region; null for security events.")
    request_id: str | None
    reason: str | None
    before: JSON | None = strawberry.field(description="Changed fields before the change (null on creation).")
    after: JSON | None = strawberry.field(description="Changed fields after the change (PII redacted).")
    event_hash: str = strawberry.field(description="SHA-256 of the event's canonical form, fixed at insert.")
    sealed: bool = strawberry.field(description="Whether the event is hash-chained into the trail yet.")

    @classmethod
    def from_row(cls, row: AuditEventRow) -> AuditEvent:
        return cls(
            id=strawberry.ID(to_global_id("AuditEvent", str(row.seq))),
            sequence=row.seq,
            occurred_at=row.occurred_at,
            actor_kind=row.actor_kind,
            actor_id=row.actor_id,
            action=row.action,
            subject_kind=row.subject_kind,
            subject_id=row.subject_id,
            region=row.region,
            request_id=row.request_id,
            reason=row.reason,
            before=row.before,
            after=row.after,
            event_hash=row.event_hash,
            sealed=row.seal_position is not None,
        )


def readable_regions(info: Info) -> Regions:
    context = info.context
    if context.auth_error is not None or not context.principal.is_authenticated:
        raise Unauthenticated(context.auth_error or "authentication required: send `Authorization: Bearer <token>`")
    if not context.permissions.allows(Permission.AUDIT_READ):
        raise Forbidden(f"permission {Permission.AUDIT_READ.value} is required for {info.field_name}")
    return context.permissions.regions(Permission.AUDIT_READ)


def events_connection(page: Page[AuditEventRow]) -> Connection[AuditEvent]:
    return connection(
        Page(
            items=[AuditEvent.from_row(r) for r in page.items],
            cursors=page.cursors,
            has_next=page.has_next,
            has_previous=page.has_previous,
        )
    )


def _history_loader(info: Info, regions: Regions) -> DataLoader[HistoryKey, Page[AuditEventRow]]:
    """One loader per request: every `history` field of a level is answered by one statement."""
    context = info.context
    loader = context.history_loader
    if loader is None:
        sessions = context.sessions

        async def load(keys: list[HistoryKey]) -> list[Page[AuditEventRow]]:
            context.history_batches += 1
            async with sessions() as session:
                return await audit_queries.histories(session, regions, keys)

        loader = context.history_loader = DataLoader(load_fn=load)
    return loader


async def history_for(
    info: Info, subject_kind: str, subject_id: uuid.UUID, first: int = 20, after: str | None = None
) -> Connection[AuditEvent]:
    """The `history` of one subject, oldest first: its audit events the reader may see (needs `audit:read`;
    raises FORBIDDEN without it). `subject_kind` is the entity kind the audit trail records: "Case",
    "Account", "Content", "Ad", "Appeal". Batched per request with a DataLoader."""
    regions = readable_regions(info)
    try:
        page = await _history_loader(info, regions).load((subject_kind, str(subject_id), first, after))
    except DomainError as exc:
        raise BadRequest(exc.message, field=exc.field) from exc
    return events_connection(page)
