"""Sliding-window counters per entity, in PostgreSQL (``persistence.counters``; Redis replaces it when configured).

One row per (source, entity, member) at the member's latest time: a counter over a window is the number of rows
of its entity with ``at`` in the window. Rows older than the longest window are pruned.
"""

from __future__ import annotations

import sqlalchemy as sa

from persistence.metadata import metadata
from persistence.tables.columns import tz

counter_members = sa.Table(
    "counter_members",
    metadata,
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("entity_kind", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(200), nullable=False),
    sa.Column("member", sa.String(400), nullable=False),
    tz("at"),
    sa.PrimaryKeyConstraint("source", "entity_kind", "entity_id", "member"),
    sa.Index("ix_counter_members_window", "source", "entity_kind", "entity_id", "at"),
    sa.Index("ix_counter_members_at", "at"),
)
