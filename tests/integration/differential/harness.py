"""Differential tests: one command, one seeded state, two engines, the same writes.

A seeded database is cloned twice (``CREATE DATABASE ... TEMPLATE``): the rows, and so their ids, are the same in
both. Engine A runs the command on one clone, engine B on the other, both on one fixed clock. Then every table is
read back and compared: the rows (new ids labelled in a deterministic order, so they compare across clones), the
audit events (kind, subject, before, after, and who, when and why) and the outbox events (type, subject, payload).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

import persistence.tables  # noqa: F401  (registers every table on the metadata)
from domain.clock import FixedClock
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.fast.sql import Pool, asyncpg_dsn, create_pool
from persistence.metadata import metadata
from persistence.uow import AuditContext

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
"""The instant both engines run at (``FixedClock``): timestamps compare as they are."""

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: Columns that differ between two runs by construction: identity sequences, and the hash over them.
_VOLATILE = {"audit_events": {"seq", "event_hash"}, "outbox_events": {"id", "seq"}}
_SKIPPED = {"audit_seals", "alembic_version"}
_counter = itertools.count()


def _dsn(server_url: str, database: str) -> str:
    return make_url(server_url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def _url(server_url: str, database: str) -> str:
    return (
        make_url(server_url)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


async def clone(server_url: str, source_url: str) -> str:
    """A new database copied from ``source_url``'s (whose connections are closed first); its URL."""
    source = make_url(source_url).database
    name = f"vigil_d{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(_dsn(server_url, "postgres"))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            source,
        )
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    finally:
        await admin.close()
    return _url(server_url, name)


async def drop(server_url: str, url: str) -> None:
    admin = await asyncpg.connect(_dsn(server_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await admin.close()


@dataclass
class Side:
    """One clone and the connections an engine uses on it: a SQLAlchemy session factory (the SQL unit of work)
    and an asyncpg pool (the prefetching units of work), both closed by ``Differential``."""

    url: str
    sessions: SessionFactory
    pool: Pool
    clock: FixedClock = field(default_factory=lambda: FixedClock(AT))


Run = Callable[[Side], Awaitable[Any]]


@dataclass
class Outcome:
    """What one engine left behind: rows per table, audit events and outbox events, normalised."""

    rows: dict[str, list[str]]
    audit: list[str]
    outbox: list[str]
    results: Any = None

    def audit_kinds(self) -> list[tuple[str, str]]:
        """(subject kind, insert or update) of the new audit events, sorted."""
        kinds = []
        for text in self.audit:
            event = json.loads(text)
            kinds.append((event["subject_kind"], "insert" if event["before"] is None else "update"))
        return sorted(kinds)


class Differential:
    """``await differential.run(engine_a, engine_b)``: each on its own clone of the seeded database."""

    def __init__(self, server_url: str, seed_url: str) -> None:
        self.server_url, self.seed_url = server_url, seed_url
        self._seed_uuids: set[str] | None = None
        self._seed_rows: dict[str, set[str]] = {}

    async def _seed(self) -> None:
        if self._seed_uuids is not None:
            return
        conn = await asyncpg.connect(asyncpg_dsn(self.seed_url))
        try:
            dump = await _dump(conn)
        finally:
            await conn.close()
        self._seed_uuids = {u for rows in dump.values() for r in rows for u in _UUID.findall(r)}
        self._seed_rows = {t: set(rows) for t, rows in dump.items()}

    async def outcome(self, run: Run) -> Outcome:
        await self._seed()
        url = await clone(self.server_url, self.seed_url)
        engine = create_engine(url, pool_size=4)
        pool = await create_pool(url, size=4)
        try:
            results = await run(Side(url, create_session_factory(engine), pool))
            conn = await pool.acquire()
            try:
                dump = await _dump(conn)
            finally:
                await pool.release(conn)
        finally:
            await pool.close()
            await engine.dispose()
            await drop(self.server_url, url)
        return self._normalised(dump, results)

    async def run(self, a: Run, b: Run) -> tuple[Outcome, Outcome]:
        """Both engines' outcomes, asserted equal (and not empty: the command wrote something)."""
        first, second = await self.outcome(a), await self.outcome(b)
        assert first.audit, "engine A wrote no audit event: the command did nothing"
        for table in sorted(set(first.rows) | set(second.rows)):
            _same(f"rows of {table}", first.rows.get(table, []), second.rows.get(table, []))
        _same("audit events", first.audit, second.audit)
        _same("outbox events", first.outbox, second.outbox)
        return first, second

    def _normalised(self, dump: dict[str, list[str]], results: Any) -> Outcome:
        assert self._seed_uuids is not None
        known = self._seed_uuids
        labels: dict[str, str] = {}

        def mask(text: str) -> str:
            return _UUID.sub(lambda m: m.group(0) if m.group(0) in known else "new", text)

        # New rows' ids get labels in table order, then in the order of their content with new ids masked.
        for table in _tables():
            fresh = sorted((r for r in dump[table] if r not in self._seed_rows[table]), key=mask)
            for i, text in enumerate(fresh):
                row_id = json.loads(text).get("id")
                if isinstance(row_id, str) and row_id not in known and row_id not in labels:
                    labels[row_id] = f"{table}#{i}"

        def label(text: str) -> str:
            return _UUID.sub(lambda m: labels.get(m.group(0), m.group(0) if m.group(0) in known else "new?"), text)

        rows = {t: sorted(label(r) for r in dump[t]) for t in _tables() if t not in ("audit_events", "outbox_events")}
        audit = sorted(label(r) for r in dump["audit_events"] if r not in self._seed_rows["audit_events"])
        outbox = sorted(label(r) for r in dump["outbox_events"] if r not in self._seed_rows["outbox_events"])
        return Outcome(rows, audit, outbox, results)


def _same(what: str, a: list[str], b: list[str]) -> None:
    if a != b:
        only_a = [r for r in a if r not in b]
        only_b = [r for r in b if r not in a]
        raise AssertionError(f"{what} differ: engine A only {only_a}, engine B only {only_b}")


def _tables() -> list[str]:
    return [t.name for t in metadata.sorted_tables if t.name not in _SKIPPED]


async def _dump(conn: asyncpg.Connection) -> dict[str, list[str]]:
    """Every table's rows as canonical JSON text (volatile columns dropped)."""
    dump: dict[str, list[str]] = {}
    for table in _tables():
        volatile = sorted(_VOLATILE.get(table, ()))
        drop_columns = "".join(f" - '{c}'" for c in volatile)
        rows = await conn.fetch(f"SELECT (to_jsonb(t){drop_columns})::text AS j FROM {table} t")
        dump[table] = [json.dumps(json.loads(r["j"]), sort_keys=True) for r in rows]
    return dump


def audit_of(operation: str, actor_id: str, actor_kind: str = "TOKEN", reason: str | None = None) -> AuditContext:
    return AuditContext(
        actor_kind=actor_kind, actor_id=actor_id, operation=operation, request_id="differential", reason=reason
    )


@contextlib.contextmanager
def altered(obj: Any, name: str, value: Any) -> Iterator[None]:
    """Replace an attribute for the duration (the tests' proof that a difference between engines is caught)."""
    patch = pytest.MonkeyPatch()
    patch.setattr(obj, name, value)
    try:
        yield
    finally:
        patch.undo()
