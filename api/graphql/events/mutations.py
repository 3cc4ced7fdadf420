"""``submitEvents``: platform events (posts, sign-ups, logins...) in batches of up to 1,000, each item on its own."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from api.graphql.context import Info
from api.graphql.ids import to_global_id
from api.graphql.permissions import requires
from api.graphql.rule_evaluation import evaluate, rules_in
from api.graphql.runner import audit_context, failed
from api.graphql.shared.common import Error, MutationError, error_from
from authz.permissions import Permission
from domain.errors import DomainError
from domain.region import Region
from domain.services.events import BATCH_MAX, Accepted, SubmitEvent, make_submit_event, submit_events
from persistence.events import PostgresEventLog


@strawberry.enum(description="The kind of an entity an event concerns.")
class EventEntityKind(Enum):
    ACCOUNT = "account"
    CONTENT = "content"
    AD = "ad"


@strawberry.input(description="An entity the event concerns, by the platform's own id.")
class EventEntityInput:
    kind: EventEntityKind
    external_id: str


@strawberry.input(description="One platform event.")
class SubmitEventInput:
    type: str = strawberry.field(
        description="content.posted, content.edited, account.created, account.changed, profile.changed, "
        "ad.submitted, message.sent or account.login."
    )
    region: Region
    entities: list[EventEntityInput] = strawberry.field(description="At most one per kind.")
    occurred_at: datetime
    idempotency_key: str = strawberry.field(
        description="Unique per region: a re-sent key is accepted once (the retry answers the first event); the "
        "same key for another event is CONFLICT (code IDEMPOTENCY_KEY_REUSED)."
    )
    attributes: JSON | None = strawberry.field(default=None, description="A JSON object, at most 16 KiB (null: {}).")


@strawberry.input
class SubmitEventsInput:
    events: list[SubmitEventInput] = strawberry.field(description="At most 1,000; each succeeds or fails alone.")


def _event_id(root: SubmitEventSuccess) -> strawberry.ID:
    """Made when asked for: a batch's answer that selects only ``ruleHits`` makes none of its 1,000 ids."""
    return strawberry.ID(to_global_id("PlatformEvent", root.accepted_id))


@strawberry.type(description="The event is in the log.")
class SubmitEventSuccess:
    accepted_id: strawberry.Private[uuid.UUID]
    event_id: strawberry.ID = strawberry.field(resolver=_event_id)
    duplicate: bool = strawberry.field(description="True when its key had been accepted before: nothing new written.")
    rule_hits: int = strawberry.field(description="Rules (SHADOW or LIVE) this event matched; 0 for a duplicate.")


SubmitEventItemResult = Annotated[SubmitEventSuccess | MutationError, strawberry.union("SubmitEventItemResult")]


@strawberry.type(description="One result per input item, in order.")
class SubmitEventsSuccess:
    results: list[SubmitEventItemResult]
    batch_id: strawberry.ID = strawberry.field(
        description="This call's batch: its audit events (one per region) name it as their subject."
    )


SubmitEventsResult = Annotated[SubmitEventsSuccess | MutationError, strawberry.union("SubmitEventsResult")]


def event_command(item: SubmitEventInput, index: int) -> SubmitEvent:
    entities: dict[str, str] = {}
    for entity in item.entities:
        kind = entity.kind.value  # an enum's value is a property: read once
        if kind in entities:
            raise DomainError.invalid_input(f"at most one {entity.kind.name} per event", f"events[{index}].entities")
        entities[kind] = entity.external_id
    attributes: Any = {} if item.attributes is None else item.attributes
    if not isinstance(attributes, dict):
        raise DomainError.invalid_input("attributes must be a JSON object", f"events[{index}].attributes")
    return make_submit_event(item.type, item.region, entities, attributes, item.occurred_at, item.idempotency_key)


def _result(outcome: Accepted | DomainError, hits: Counter[uuid.UUID]) -> SubmitEventSuccess | Error:
    if isinstance(outcome, DomainError):
        return error_from(outcome)
    return SubmitEventSuccess(
        accepted_id=outcome.event_id,
        duplicate=outcome.duplicate,
        rule_hits=hits[outcome.event_id] if hits and not outcome.duplicate else 0,  # no id hashed when no rule hit
    )


@strawberry.type
class EventMutation:
    @strawberry.mutation(
        extensions=requires(Permission.PLATFORM_EVENTS_SUBMIT),
        description="Platform events for the enforcement rules, up to 1,000 in one call; each item succeeds or "
        "fails alone, and a re-sent idempotency key is accepted once.",
    )
    async def submit_events(self, info: Info, input: SubmitEventsInput) -> SubmitEventsResult:
        context = info.context
        if len(input.events) > BATCH_MAX:
            return failed(context, DomainError.invalid_input(f"at most {BATCH_MAX} events per batch", "events"))
        if context.pool is None:
            raise RuntimeError("submitEvents needs the app's connection pool")
        commands: list[SubmitEvent | DomainError] = []
        for index, item in enumerate(input.events):
            try:
                commands.append(event_command(item, index))
            except DomainError as exc:
                commands.append(exc)
        permissions = context.permissions
        regions = {r.value for r in {c.region for c in commands if isinstance(c, SubmitEvent)}}  # value: a property
        backlog = "submitEvents" if await rules_in(context, regions) else None  # the rules' note, in the append
        log = PostgresEventLog(context.pool, audit_context(context, "submitEvents"), backlog=backlog)
        outcomes = await submit_events(
            log,
            commands,
            source_id=context.principal.id,
            now=datetime.now(UTC),
            may_submit=lambda region: permissions.allows(Permission.PLATFORM_EVENTS_SUBMIT, region.value),
        )
        accepted = [o for o in outcomes if isinstance(o, Accepted)]
        hits = await evaluate(context, accepted, backlog_id=log.batch_id if log.backlogged else None)
        return SubmitEventsSuccess(
            results=[_result(o, hits) for o in outcomes],  # type: ignore[misc]
            batch_id=strawberry.ID(to_global_id("PlatformEventBatch", log.batch_id)),
        )
