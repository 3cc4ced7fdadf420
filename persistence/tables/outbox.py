"""The outbox (events written in the transaction of their change) and the webhooks that carry them out."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from domain.outbox.webhook import WebhookDelivery, WebhookEndpoint
from persistence.metadata import metadata
from persistence.tables.columns import region, tz
from persistence.tables.derive import entity_columns

outbox_events = sa.Table(
    "outbox_events",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    region(),
    sa.Column("subject_kind", sa.String(32), nullable=False),
    sa.Column("subject_id", UUID(as_uuid=True), nullable=False),
    tz("occurred_at"),
    sa.Column("payload", JSONB, nullable=False),
    # Fanned out to the webhook deliveries that want it / published to NATS (NULL: not yet).
    tz("dispatched_at", nullable=True),
    tz("published_at", nullable=True),
    sa.Index("ix_outbox_events_type_seq", "type", "seq"),
    sa.Index("ix_outbox_events_occurred", "occurred_at", "seq"),
    sa.Index("ix_outbox_events_undispatched", "seq", postgresql_where=sa.text("dispatched_at IS NULL")),
    sa.Index("ix_outbox_events_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
)

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    *entity_columns(WebhookEndpoint, indexed=("owner_id",), lengths={"owner_id": 200, "url": 2000}),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    *entity_columns(
        WebhookDelivery,
        foreign_keys={"endpoint_id": "webhook_endpoints.id", "event_id": "outbox_events.id"},
        indexed=("event_id",),
    ),
    sa.UniqueConstraint("endpoint_id", "event_id"),
    sa.Index("ix_webhook_deliveries_history", "endpoint_id", "created_at", "id"),
    sa.Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=sa.text("state = 'PENDING'")),
)
