"""The read side of the outbox and webhooks: events within the reader's regions, a partner's own endpoints within
its regions, and each endpoint's delivery history (one statement for the histories of a whole page of endpoints)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.outbox.events import DomainEvent
from domain.outbox.webhook import WebhookDelivery, WebhookEndpoint
from persistence.dispatch import event_from
from persistence.pagination import Page, check_first, keyset, to_page
from persistence.repositories import WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS
from persistence.tables.outbox import outbox_events, webhook_deliveries, webhook_endpoints

Regions = frozenset[str] | None
"""Where the reader holds the permission at hand (`events:read`, `webhooks:manage`): a set of regions, or None
for every region."""


@dataclass(frozen=True)
class EventFilter:
    types: tuple[str, ...] | None = None
    region: str | None = None
    since: datetime | None = None
    """Inclusive lower bound on `occurred_at`."""
    until: datetime | None = None
    """Exclusive upper bound on `occurred_at`."""


@dataclass(frozen=True)
class EventRow:
    seq: int
    event: DomainEvent


def _event_select() -> sa.Select[Any]:
    c = outbox_events.c
    return sa.select(
        c.seq,
        c.id,
        c.type,
        c.schema_version,
        c.region,
        c.subject_kind,
        c.subject_id,
        c.occurred_at,
        sa.cast(c.payload, sa.Text).label("payload"),
    )


def _event_row(r: Any) -> EventRow:
    return EventRow(seq=r["seq"], event=event_from(r))


async def list_events(
    session: AsyncSession, regions: Regions, flt: EventFilter, *, first: int = 50, after: str | None = None
) -> Page[EventRow]:
    """Oldest first (log order), one statement."""
    c = outbox_events.c
    stmt = _event_select()
    if regions is not None:
        stmt = stmt.where(c.region.in_(sorted(regions)))
    if flt.types is not None:
        stmt = stmt.where(c.type.in_(flt.types))
    if flt.region is not None:
        stmt = stmt.where(c.region == flt.region)
    if flt.since is not None:
        stmt = stmt.where(c.occurred_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(c.occurred_at < flt.until)
    stmt = keyset(stmt, c.seq, c.seq, first=first, after=after, descending=False)
    rows = [_event_row(r) for r in (await session.execute(stmt)).mappings()]
    return to_page(rows, first=first, after=after, sort_attr="seq", id_attr="seq")


async def events_by_id(session: AsyncSession, regions: Regions, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, EventRow]:
    stmt = _event_select().where(outbox_events.c.id.in_(sorted(set(ids))))
    if regions is not None:
        stmt = stmt.where(outbox_events.c.region.in_(sorted(regions)))
    rows = [_event_row(r) for r in (await session.execute(stmt)).mappings()]
    return {r.event.id: r for r in rows}


def _visible(owner_id: str, regions: Regions) -> list[sa.ColumnElement[bool]]:
    """The owner's endpoints whose regions all lie within ``regions`` (``WebhookEndpoint.visible_to`` in SQL)."""
    c = webhook_endpoints.c
    where = [c.owner_id == owner_id]
    if regions is not None:
        where.append(c.regions.contained_by(sorted(regions)))
    return where


async def list_webhooks(
    session: AsyncSession, owner_id: str, regions: Regions, *, first: int = 20, after: str | None = None
) -> Page[WebhookEndpoint]:
    """The endpoints ``owner_id`` sees where it manages webhooks (``regions``): every region of each held."""
    c = webhook_endpoints.c
    stmt = keyset(
        sa.select(webhook_endpoints).where(*_visible(owner_id, regions)), c.created_at, c.id, first=first, after=after
    )
    rows = [WEBHOOK_ENDPOINTS.from_row(r) for r in (await session.execute(stmt)).mappings()]
    return to_page(rows, first=first, after=after, sort_attr="created_at")


async def webhooks_by_id(
    session: AsyncSession, owner_id: str, regions: Regions, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, WebhookEndpoint]:
    c = webhook_endpoints.c
    stmt = sa.select(webhook_endpoints).where(*_visible(owner_id, regions), c.id.in_(sorted(set(ids))))
    rows = [WEBHOOK_ENDPOINTS.from_row(r) for r in (await session.execute(stmt)).mappings()]
    return {r.id: r for r in rows}


DeliveryKey = tuple[uuid.UUID, str | None, int, str | None]
"""(endpoint id, state or None, first, after) of one `deliveries` field."""


async def delivery_histories(
    session: AsyncSession, regions: Regions, keys: Sequence[DeliveryKey]
) -> list[Page[WebhookDelivery]]:
    """Newest first, per endpoint, the deliveries of events in ``regions``: one statement per distinct (state,
    first, after), usually one in all (each endpoint's page cut in SQL with ``row_number() OVER (PARTITION BY
    endpoint)``)."""
    groups: dict[tuple[str | None, int, str | None], list[uuid.UUID]] = {}
    for endpoint, state, first, after in keys:
        check_first(first)
        groups.setdefault((state, first, after), []).append(endpoint)
    found: dict[DeliveryKey, list[WebhookDelivery]] = {}
    c = webhook_deliveries.c
    for (state, first, after), endpoints in groups.items():
        inner = keyset(
            sa.select(webhook_deliveries).where(c.endpoint_id.in_(sorted(set(endpoints)))),
            c.created_at,
            c.id,
            first=first,
            after=after,
        ).limit(None)
        if state is not None:
            inner = inner.where(c.state == state)
        if regions is not None:
            inner = inner.where(c.region.in_(sorted(regions)))
        rank = sa.func.row_number().over(partition_by=c.endpoint_id, order_by=(c.created_at.desc(), c.id.desc()))
        sub = inner.order_by(None).add_columns(rank.label("rank")).subquery()
        stmt = sa.select(sub).where(sub.c.rank <= first + 1).order_by(sub.c.endpoint_id, sub.c.rank)
        for r in (await session.execute(stmt)).mappings():
            delivery: WebhookDelivery = WEBHOOK_DELIVERIES.from_row(r)
            found.setdefault((delivery.endpoint_id, state, first, after), []).append(delivery)
    return [to_page(found.get(key, []), first=key[2], after=key[3], sort_attr="created_at") for key in keys]
