"""The hot paths' SQL on plain asyncpg: a connection pool, statements generated once per table from the same
table definitions as everything else, and rows decoded straight into domain entities.

Why beside the SQLAlchemy session: on a report or a claim, compiling Core statements and running them through an
ORM session cost more CPU than PostgreSQL spends on the work. Here every statement is text built once per
process, prepared once per connection (asyncpg's statement cache) and sent with typed parameters; sets of rows go
as arrays through ``unnest``, so a batch of 100 costs the same number of statements as one row.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import enum
import functools
import json
import uuid
import weakref
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg

from persistence.audit import AuditRecord, row_for
from persistence.locks import subject_lock_key
from persistence.mapping import EntityMapping
from persistence.tables.audit import audit_events

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
_ASYNCPG = postgresql_asyncpg.dialect()  # type: ignore[no-untyped-call]

Pool: TypeAlias = asyncpg.Pool


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy ``postgresql+asyncpg://`` URL as an asyncpg DSN."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


SESSION_SETTINGS = {"plan_cache_mode": "force_generic_plan"}
"""The pools' session settings. The hot statements are index lookups whose best plan does not depend on the values:
plan them once per connection (the default re-planned the intake prefetch on every call, ten times its execution).
``bench.statements`` replays the API's statements under the same settings."""


async def create_pool(url: str, *, size: int) -> Pool:
    """Connections open on demand (the app starts while the database is down) and keep their prepared statements.

    Released connections skip asyncpg's default ``RESET ALL; CLOSE ALL; ...`` round trip: the hot paths change no
    session state (only transaction-scoped advisory locks), and asyncpg still rolls back an open transaction."""
    pool: Pool = await asyncpg.create_pool(
        asyncpg_dsn(url),
        init=_watch_queries,
        min_size=0,
        max_size=size,
        statement_cache_size=256,
        max_cacheable_statement_size=256 * 1024,  # the intake prefetch is one long UNION: keep it prepared
        reset=_keep_session,
        server_settings=dict(SESSION_SETTINGS),
    )
    return pool


async def _keep_session(connection: asyncpg.Connection) -> None:
    return None


_recorded: list[str] | None = None
_observer: Callable[[Any], None] | None = None
_connections: weakref.WeakSet[asyncpg.Connection] = weakref.WeakSet()
"""Every open connection of this process's pools: the query logger is on them only while someone watches."""


def set_query_observer(observer: Callable[[Any], None] | None) -> None:
    """Called with asyncpg's ``LoggedQuery`` after every statement of this process's pools (traces); None: off."""
    global _observer
    _observer = observer
    _watch_all()


def _watching() -> bool:
    return _recorded is not None or _observer is not None


def _watch_all() -> None:
    """Put the query logger on every connection, or take it off, as someone watches or no one does: asyncpg times
    a statement, builds its record and schedules one more event-loop callback only on a connection with a logger
    (on the hot paths' two to four statements a request, a few percent of their CPU)."""
    watching = _watching()
    for connection in list(_connections):
        if watching:
            connection.add_query_logger(_record)  # a set: adding it twice keeps one
        else:
            connection.remove_query_logger(_record)


async def _watch_queries(connection: asyncpg.Connection) -> None:
    _connections.add(connection)
    if _watching():
        connection.add_query_logger(_record)


_unrecorded: contextvars.ContextVar[bool] = contextvars.ContextVar("vigil_unrecorded", default=False)


def _record(query: Any) -> None:
    if _recorded is not None and not _unrecorded.get():
        _recorded.append(query.query)
    if _observer is not None:
        _observer(query)


@contextlib.contextmanager
def unrecorded() -> Iterator[None]:
    """Statements sent inside are not the request's own (a process-wide cache's load or poll): they are left out
    of ``recording_queries``, whichever request happens to be running when they go out."""
    token = _unrecorded.set(True)
    try:
        yield
    finally:
        _unrecorded.reset(token)


@contextlib.contextmanager
def recording_queries() -> Iterator[list[str]]:
    """Every statement the pools of this process send while inside (each is one round trip): tests pin the
    round trips of the hot paths with it."""
    global _recorded
    previous, _recorded = _recorded, []
    _watch_all()
    try:
        yield _recorded
    finally:
        _recorded = previous
        _watch_all()


lock_key = subject_lock_key  # the subject lock of ``persistence.locks``


def lock_subjects_sql(subject_ids: Sequence[uuid.UUID]) -> str:
    """``BEGIN`` and the subjects' advisory locks, in one simple-protocol round trip. Locks are taken in ascending
    key order, so two batches over the same subjects wait for each other instead of deadlocking. The keys are
    integers computed here, never caller text."""
    keys = sorted({lock_key(s) for s in subject_ids})
    locks = ", ".join(f"pg_advisory_xact_lock({k})" for k in keys)
    return f"BEGIN; SELECT {locks};" if keys else "BEGIN;"


# -- columns and types ---------------------------------------------------------------------------------------
def pg_type(column: sa.Column[Any]) -> str:
    compiled = str(column.type.compile(dialect=_DIALECT))
    return "text" if compiled.startswith("VARCHAR") else compiled.lower()


@functools.cache
def _columns(table: sa.Table) -> tuple[tuple[str, str], ...]:
    return tuple((c.name, pg_type(c)) for c in table.columns if not c.identity)


def _param(pg: str) -> str:
    """The parameter type a column's values travel as: an array column's rows as JSON (``unnest`` would flatten
    an array of arrays into one list of elements)."""
    return "jsonb" if pg.endswith("[]") else pg


def _value(name: str, pg: str, source: str) -> str:
    """``source.name`` as the column's type (JSON arrays back to PostgreSQL arrays)."""
    if not pg.endswith("[]"):
        return f"{source}.{name}"
    return f"ARRAY(SELECT jsonb_array_elements_text({source}.{name}))::{pg}"


def insert_cte(table: sa.Table, first_param: int) -> tuple[str, int]:
    """``INSERT INTO table (...) SELECT ... FROM unnest($n::type[], ...)``: one array parameter per column."""
    columns = _columns(table)
    arrays = ", ".join(f"${first_param + i}::{_param(t)}[]" for i, (_, t) in enumerate(columns))
    names = ", ".join(n for n, _ in columns)
    values = ", ".join(_value(n, t, "u") for n, t in columns)
    source = f"unnest({arrays}) AS u({names})"
    sql = f"INSERT INTO {table.name} ({names}) SELECT {values} FROM {source} RETURNING 1"  # noqa: S608 (names from metadata)
    return sql, first_param + len(columns)


def update_cte(table: sa.Table, first_param: int, written: Collection[str] | None = None) -> tuple[str, int]:
    """Rows updated in the columns ``written`` (default: all), each guarded by the version it was loaded at:
    ``RETURNING`` one row per match, so the caller can tell a lost race (fewer rows than sent) from success.
    ``id`` always travels (it is the match); the arrays follow the table's column order."""
    columns = [(n, t) for n, t in _columns(table) if n == "id" or written is None or n in written]
    arrays = ", ".join(f"${first_param + i}::{_param(t)}[]" for i, (_, t) in enumerate(columns))
    guard = f"${first_param + len(columns)}::integer[]"
    names = [n for n, _ in columns]
    assignments = ", ".join(f"{n} = {_value(n, t, 'u')}" for n, t in columns if n != "id")
    # names from the table metadata, values as parameters
    source = f"unnest({arrays}, {guard}) AS u({', '.join(names)}, loaded)"
    match = f"{table.name}.id = u.id AND {table.name}.version = u.loaded"
    sql = f"UPDATE {table.name} SET {assignments} FROM {source} WHERE {match} RETURNING 1"  # noqa: S608
    return sql, first_param + len(columns) + 1


def column_arrays(
    mapping: EntityMapping[Any], entities: Sequence[Any], written: Collection[str] | None = None
) -> list[list[Any]]:
    """One list per column of ``mapping.table`` (only ``id`` and the ``written`` ones, if given), in column order."""
    # Enums are str subclasses: asyncpg encodes them as they are. JSON and array columns travel as JSON text.
    arrays: list[list[Any]] = []
    for name, pg in _columns(mapping.table):
        if written is not None and name != "id" and name not in written:
            continue
        values = [getattr(e, name) for e in entities]
        if pg.endswith("[]"):
            values = [None if v is None else _json_text(list(v)) for v in values]
        elif pg == "jsonb":
            values = [None if v is None else _json_text(v) for v in values]
        arrays.append(values)
    return arrays


def json_column(values: Sequence[str | int | datetime | None]) -> str:
    """``values`` as one JSON array, for ``json_array_elements_text($n::json)`` (several side by side in ``ROWS FROM``
    zip like a many-argument ``unnest``; cast the text where the column is not text). A batch's keys travel so
    instead of as arrays: asyncpg encodes an array parameter value by value, with one or two abstract-base-class
    checks per value in Python, where orjson writes the whole column in one C call and PostgreSQL parses it in C.
    Strings, integers within 64 bits, times (RFC 3339, to the microsecond) and nulls only."""
    return orjson.dumps(values).decode()


def audit_arrays(records: Sequence[AuditRecord]) -> list[list[Any]]:
    """The audit events' columns (hash computed by the one ``persistence.audit.row_for``); JSON as text."""
    rows = [row_for(r) for r in records]
    arrays: list[list[Any]] = []
    for name, pg in _columns(audit_events):
        if pg == "jsonb":
            arrays.append([None if row[name] is None else _json_text(row[name]) for row in rows])
        else:
            arrays.append([row[name] for row in rows])
    return arrays


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:  # an integer past 64 bits
        return json.dumps(value, default=str)


def _stored(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_stored(v) for v in value]
    return value


# -- Core statements compiled once ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Compiled:
    """A Core statement as asyncpg text: ``args(**values)`` orders the named bind values (constants such as a
    ``LIMIT`` keep their compiled value)."""

    sql: str
    names: tuple[str, ...]
    defaults: dict[str, Any]

    def args(self, **values: Any) -> list[Any]:
        return [values[name] if name in values else self.defaults[name] for name in self.names]


def compile_statement(statement: sa.ClauseElement) -> Compiled:
    compiled = statement.compile(dialect=_ASYNCPG, compile_kwargs={"render_postcompile": True})
    defaults = {name: _stored(value) for name, value in compiled.params.items()}
    return Compiled(compiled.string, tuple(compiled.positiontup or ()), defaults)  # type: ignore[attr-defined]


_COMPILED_CACHE_SIZE = 256
_compiled_by_key: collections.OrderedDict[Any, Any] = collections.OrderedDict()


def compile_cached(statement: sa.ClauseElement) -> Compiled:
    """``compile_statement(statement)``, the same text and values, with the compilation reused for every statement
    of the same shape: SQLAlchemy's cache key (its own statement cache's) names the shape and carries this
    statement's bound values, which the cached compilation takes (``construct_params``) and expands (``IN`` lists
    rendered as one parameter each, as ``render_postcompile`` does). A page built per request (its filters, regions
    and cursor) was compiled every time: ~0.8 ms of a page's CPU. Statements SQLAlchemy cannot key are compiled
    as before; at most ``_COMPILED_CACHE_SIZE`` shapes are kept (least recently used dropped)."""
    key = statement._generate_cache_key()
    if key is None:
        return compile_statement(statement)
    compiled: Any = _compiled_by_key.get(key.key)
    if compiled is None:
        compiled = statement.compile(dialect=_ASYNCPG, cache_key=key)
        _compiled_by_key[key.key] = compiled
        if len(_compiled_by_key) > _COMPILED_CACHE_SIZE:
            _compiled_by_key.popitem(last=False)
    else:
        _compiled_by_key.move_to_end(key.key)
    expanded = compiled.construct_expanded_state(compiled.construct_params(extracted_parameters=key.bindparams))
    values = expanded.parameters
    names = tuple(expanded.positiontup or ())
    return Compiled(expanded.statement, names, {name: _stored(values[name]) for name in names})


def nulls_as(table: sa.Table, prefix: str) -> list[sa.ColumnElement[Any]]:
    """``NULL::type AS prefix_column`` for every column: pads one branch of a tagged UNION ALL."""
    return [sa.cast(sa.null(), c.type).label(f"{prefix}{c.name}") for c in table.columns]


def labelled(columns: Any, prefix: str) -> list[sa.ColumnElement[Any]]:
    return [c.label(f"{prefix}{c.name}") for c in columns]


# -- rows as entities ----------------------------------------------------------------------------------------
def entity_from(mapping: EntityMapping[Any], record: asyncpg.Record | dict[str, Any], prefix: str = "") -> Any:
    """An entity from an asyncpg record (columns named ``prefix + field``): ``EntityMapping.from_row``."""
    return mapping.from_row(record, prefix)


def entity_from_json(mapping: EntityMapping[Any], text: str) -> Any:
    """An entity from ``to_jsonb(row)``: ``EntityMapping.from_json``."""
    return mapping.from_json(text)
