"""Who may call: principals (staff members, partner organisations), their role assignments, API tokens."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from persistence.metadata import metadata
from persistence.tables.columns import REGIONS, fk, pk, tz

principals = sa.Table(
    "principals",
    metadata,
    pk(),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("partner_org", sa.String(200), nullable=True),
    tz("created_at"),
    sa.CheckConstraint("kind IN ('STAFF', 'PARTNER', 'SYSTEM')", name="kind"),
)

role_assignments = sa.Table(
    "role_assignments",
    metadata,
    pk(),
    fk("principal_id", "principals.id"),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("region", sa.String(8), nullable=False),
    tz("created_at"),
    sa.UniqueConstraint("principal_id", "role", "region"),
    sa.CheckConstraint(f"region IN ({', '.join(repr(r) for r in (*REGIONS, '*'))})", name="region"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    pk(),
    fk("principal_id", "principals.id"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("scopes", ARRAY(sa.String(64)), nullable=True),
    sa.Column("region", sa.String(8), nullable=True),
    fk("issued_by", "principals.id", nullable=True, index=False),
    tz("created_at"),
    tz("expires_at", nullable=True),
    tz("revoked_at", nullable=True),
)
