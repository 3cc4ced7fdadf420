"""The audit trail: append-only events written in the transaction of their change, and the seals that
hash-chain them after commit (see persistence.audit)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from persistence.metadata import metadata
from persistence.tables.columns import tz

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    tz("occurred_at"),
    sa.Column("actor_kind", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject_kind", sa.String(32), nullable=False),
    sa.Column("subject_id", sa.String(200), nullable=False),
    sa.Column("region", sa.String(8), nullable=True),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("before", JSONB, nullable=True),
    sa.Column("after", JSONB, nullable=True),
    sa.Column("event_hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_events_subject", "subject_kind", "subject_id", "seq"),
    sa.Index("ix_audit_events_actor", "actor_id", "seq"),
    sa.Index("ix_audit_events_region_time", "region", "occurred_at"),
    sa.Index("ix_audit_events_action", "action", "seq"),
)

audit_seals = sa.Table(
    "audit_seals",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("chain_hash", sa.String(64), nullable=False),
    tz("sealed_at"),
)
