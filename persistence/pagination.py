"""Keyset pagination: stable cursors over (sort key, id), `first` capped at 100, one statement per page."""

from __future__ import annotations

import base64
import json
import uuid
from binascii import b2a_base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

import sqlalchemy as sa

from domain.errors import DomainError

T = TypeVar("T")
MAX_PAGE = 100


class Cursors(Sequence[str]):
    """The cursors of a page's rows, each written (``encode_cursor``) when first asked for: a console page that
    shows its nodes asks for its last one only (``pageInfo.endCursor``); ``edges { cursor }`` for each."""

    __slots__ = ("_keys", "_written")

    def __init__(self, keys: list[tuple[Any, Any]]) -> None:
        self._keys = keys  # (sort value, id) of each row
        self._written: list[str | None] = [None] * len(keys)

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._keys)))]
        written = self._written[index]
        if written is None:
            written = self._written[index] = encode_cursor(*self._keys[index])
        return written

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # a sequence, compared by value

    def __repr__(self) -> str:
        return f"Cursors({list(self)!r})"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursors: Sequence[str]
    has_next: bool
    has_previous: bool
    rendered: list[str | None] | None = None
    """Each item's JSON text, when the page's statement rendered them (``persistence.queries.reads``). When every
    item rendered, ``items`` is empty: the rows were never made entities (the cursors are the rows'). When one
    is None (the rendering gave up on that row), ``items`` and the cursors are the page read again, ordinarily."""


_CURSOR_JSON = json.JSONEncoder(separators=(",", ":"))
"""``json.dumps(..., separators=(",", ":"))``'s encoder, built once: ``json.dumps`` with an option builds one per call,
and a page encodes a cursor per row."""


_URL_SAFE = bytes.maketrans(b"+/", b"-_")
"""``base64.urlsafe_b64encode``'s alphabet, applied to ``b2a_base64``'s output as it does."""


def encode_cursor(sort_value: Any, row_id: uuid.UUID | int | str) -> str:
    if sort_value.__class__ is datetime and row_id.__class__ is uuid.UUID:
        # the common key, written as the encoder writes it: an ISO date-time and a UUID hold nothing JSON escapes
        raw = f'["{sort_value.isoformat()}","{row_id}"]'.encode()
    else:
        value = sort_value.isoformat() if isinstance(sort_value, datetime) else sort_value
        raw = _CURSOR_JSON.encode([value, str(row_id)]).encode()
    return b2a_base64(raw, newline=False).translate(_URL_SAFE).rstrip(b"=").decode()


def isoformat_sql(column: str) -> str:
    """SQL writing a ``timestamptz`` as ``datetime.isoformat()`` writes the UTC datetime asyncpg reads for it:
    microseconds only when not zero."""
    text = f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
    return f"replace({text}, '.000000+', '+')"


def decode_cursor(cursor: str, *, datetime_key: bool) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if datetime_key:
            value = datetime.fromisoformat(value)
        return value, str(row_id)
    except (ValueError, TypeError) as exc:
        raise DomainError.invalid_input("`after` is not a cursor this API issued", field="after") from exc


def check_first(first: int) -> int:
    if first < 0 or first > MAX_PAGE:
        raise DomainError.invalid_input(f"`first` must be between 0 and {MAX_PAGE}", field="first")
    return first


def keyset(
    stmt: sa.Select[Any],
    sort: sa.ColumnElement[Any],
    row_id: sa.ColumnElement[Any],
    *,
    first: int,
    after: str | None,
    descending: bool = True,
) -> sa.Select[Any]:
    """Order by (sort, id), start after the cursor, fetch one extra row to learn whether a next page exists."""
    check_first(first)
    if after is not None:
        value, last_id = decode_cursor(after, datetime_key=isinstance(sort.type, sa.DateTime))
        try:
            id_value: Any = (
                int(last_id)
                if isinstance(row_id.type, sa.BigInteger | sa.Integer)
                else last_id
                if isinstance(row_id.type, sa.String)
                else uuid.UUID(last_id)
            )
        except ValueError as exc:
            raise DomainError.invalid_input("`after` is not a cursor this API issued", field="after") from exc
        key = sa.tuple_(sort, row_id)
        stmt = stmt.where(key < sa.tuple_(value, id_value) if descending else key > sa.tuple_(value, id_value))
    order = (sort.desc(), row_id.desc()) if descending else (sort.asc(), row_id.asc())
    return stmt.order_by(*order).limit(first + 1)


def to_page(rows: list[T], *, first: int, after: str | None, sort_attr: str, id_attr: str = "id") -> Page[T]:
    items = rows[:first]
    cursors = Cursors([(getattr(r, sort_attr), getattr(r, id_attr)) for r in items])
    return Page(items=items, cursors=cursors, has_next=len(rows) > first, has_previous=after is not None)
