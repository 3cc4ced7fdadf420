"""Columns derived from a domain dataclass's type hints, so a table can never drift from its entity.

uuid → UUID, str → text (bounded by `lengths`), int → integer, float → double precision, bool → boolean,
datetime → timestamptz, StrEnum → checked text, tuple[...] → text[], dict[...] → jsonb;
`X | None` → nullable. FKs, indexes and
uniques are declared by the table module beside these columns.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from persistence.tables.columns import enum_col


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return hint, False


def entity_columns(
    entity: type[Any],
    *,
    foreign_keys: dict[str, str] | None = None,
    indexed: tuple[str, ...] = (),
    lengths: dict[str, int] | None = None,
) -> list[sa.Column[Any]]:
    hints = typing.get_type_hints(entity)
    foreign_keys = foreign_keys or {}
    lengths = lengths or {}
    columns: list[sa.Column[Any]] = []
    for f in dataclasses.fields(entity):
        hint, nullable = _unwrap_optional(hints[f.name])
        index = f.name in indexed
        if f.name == "id":
            columns.append(sa.Column("id", UUID(as_uuid=True), primary_key=True))
            continue
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            columns.append(enum_col(f.name, hint, nullable=nullable, index=index))
            continue
        sa_type: Any
        if typing.get_origin(hint) is tuple:
            sa_type = ARRAY(sa.Text)
        elif typing.get_origin(hint) is dict:
            sa_type = JSONB
        elif hint is uuid.UUID:
            sa_type = UUID(as_uuid=True)
        elif hint is bool:
            sa_type = sa.Boolean
        elif hint is int:
            sa_type = sa.Integer
        elif hint is float:
            sa_type = sa.Double
        elif hint is datetime:
            sa_type = sa.DateTime(timezone=True)
        elif hint is str:
            sa_type = sa.String(lengths[f.name]) if f.name in lengths else sa.Text
        else:
            raise TypeError(f"{entity.__name__}.{f.name}: no column type for {hint!r}")
        args: list[Any] = [sa.ForeignKey(foreign_keys[f.name])] if f.name in foreign_keys else []
        server_default = sa.text("1") if f.name == "version" else None
        columns.append(sa.Column(f.name, sa_type, *args, nullable=nullable, index=index, server_default=server_default))
    return columns
