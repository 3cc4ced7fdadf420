"""strike ladders as data: versions per region and surface, seeded with the defaults; decisions cite theirs

Each (region, surface) gets version 1 of the ladder that applied until now (``domain.ladder``: the content ladder,
which counts content and account strikes, for CONTENT and ACCOUNT; the ads ladder for ADS). The values are written
out here so this revision never changes; tests/integration/lifecycle/test_ladder_versions.py holds them equal to the domain's.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 18:30:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REGIONS = ("US", "EU", "APAC", "ROW")
SURFACES = ("CONTENT", "ADS", "ACCOUNT")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


CONTENT_LADDER = {
    "counted_surfaces": ["ACCOUNT", "CONTENT"],
    "steps": ["1:WARN", "2:RESTRICT_FEATURES:7", "3:BAN_ACCOUNT"],
    "severe_step": "0:BAN_ACCOUNT",
    "window_days": 90,
}
ADS_LADDER = {
    "counted_surfaces": ["ADS"],
    "steps": ["1:WARN", "2:HOLD_ADS:3", "3:HOLD_ADS:7", "4:SUSPEND_ACCOUNT:30"],
    "severe_step": "0:BAN_ACCOUNT",
    "window_days": 90,
}
DEFAULTS = {"CONTENT": CONTENT_LADDER, "ACCOUNT": CONTENT_LADDER, "ADS": ADS_LADDER}


def upgrade() -> None:
    ladders = op.create_table(
        "strike_ladders",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("region", _enum("region_region", *REGIONS), nullable=False),
        sa.Column("surface", _enum("surface_surface", *SURFACES), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("counted_surfaces", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("steps", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("severe_step", sa.Text(), nullable=True),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strike_ladders")),
        sa.UniqueConstraint("region", "surface", "number", name=op.f("uq_strike_ladders_region_surface_number")),
    )
    op.add_column("decisions", sa.Column("ladder_version_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_decisions_ladder_version_id_strike_ladders"),
        "decisions",
        "strike_ladders",
        ["ladder_version_id"],
        ["id"],
    )
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "region": region,
            "surface": surface,
            "number": 1,
            **DEFAULTS[surface],
            "published_by": "migration:0008",
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for region in REGIONS
        for surface in SURFACES
    ]
    op.bulk_insert(ladders, rows)


def downgrade() -> None:
    op.drop_constraint(op.f("fk_decisions_ladder_version_id_strike_ladders"), "decisions", type_="foreignkey")
    op.drop_column("decisions", "ladder_version_id")
    op.drop_table("strike_ladders")
