"""Platform events (what happens on the platform, for the enforcement rules and their backtests) and their keys.

``platform_events`` is partitioned by month on ``occurred_at`` (``RANGE``); its partitions are created on demand in
the schema ``platform_event_partitions`` (``persistence.events``) and dropped whole by retention. A unique index on
a partitioned table must contain the partition key, so an idempotency key cannot be unique there across months:
``platform_event_keys`` (not partitioned) holds one row per (region, key) and is written in the same statement as
the event, so a key re-sent with another ``occurred_at`` is still recognised.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from persistence.metadata import metadata
from persistence.tables.columns import tz

PARTITION_SCHEMA = "platform_event_partitions"

platform_events = sa.Table(
    "platform_events",
    metadata,
    sa.Column("id", UUID(as_uuid=True), nullable=False),
    tz("occurred_at"),
    sa.Column("region", sa.String(8), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("entities", JSONB, nullable=False),
    sa.Column("attributes", JSONB, nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("source_id", sa.String(200), nullable=False),
    sa.Column("batch_id", UUID(as_uuid=True), nullable=False),
    tz("received_at"),
    sa.PrimaryKeyConstraint("id", "occurred_at"),
    sa.Index("ix_platform_events_region_occurred", "region", "occurred_at"),
    postgresql_partition_by="RANGE (occurred_at)",
)

platform_event_keys = sa.Table(
    "platform_event_keys",
    metadata,
    sa.Column("region", sa.String(8), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    tz("occurred_at", index=True),
    # sha256 of the event's content: a re-sent key with other content is IDEMPOTENCY_KEY_REUSED.
    sa.Column("digest", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("region", "idempotency_key"),
)
