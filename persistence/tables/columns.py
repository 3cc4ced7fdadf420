"""Column helpers shared by every table: ids, regions, timestamps, optimistic version, enums as checked text."""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from domain.region import Region

REGIONS = tuple(r.value for r in Region)


def pk() -> sa.Column[Any]:
    return sa.Column("id", UUID(as_uuid=True), primary_key=True)


def fk(name: str, target: str, *, nullable: bool = False, index: bool = True) -> sa.Column[Any]:
    return sa.Column(name, UUID(as_uuid=True), sa.ForeignKey(target), nullable=nullable, index=index)


def uuid_col(name: str, *, nullable: bool = False, index: bool = False) -> sa.Column[Any]:
    return sa.Column(name, UUID(as_uuid=True), nullable=nullable, index=index)


def tz(name: str, *, nullable: bool = False, index: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, index=index)


def region(*, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column("region", sa.String(8), nullable=nullable, index=True)


def region_check(table: str, *, nullable: bool = False) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{r}'" for r in REGIONS)
    expr = f"region IN ({allowed})"
    if nullable:
        expr = f"region IS NULL OR {expr}"
    return sa.CheckConstraint(expr, name="region")


def enum_col(name: str, enum_cls: type[enum.Enum], *, nullable: bool = False, index: bool = False) -> sa.Column[Any]:
    """An enum stored as its value in checked text, so adding a member is a small migration."""
    return sa.Column(
        name,
        sa.Enum(
            enum_cls,
            native_enum=False,
            create_constraint=True,
            length=32,
            name=f"{name}_{enum_cls.__name__.lower()}",
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        nullable=nullable,
        index=index,
    )


def audit_columns() -> list[sa.Column[Any]]:
    """created_at, updated_at and the optimistic-concurrency version every aggregate row carries."""
    return [
        tz("created_at"),
        tz("updated_at"),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    ]
