"""The read side of the audit trail: filtered, region-limited, keyset-paginated listings and per-subject histories.

Visibility is a SQL filter, never a Python loop: `region = ANY(:regions)` for the regions where the reader holds
`audit:read`. Events without a region (security events: refused attempts) belong to no region, so only a reader
whose `audit:read` holds in every region sees them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncResult, AsyncSession

from authz.roles import KNOWN_REGIONS
from domain.errors import DomainError
from persistence.pagination import MAX_PAGE, Page, check_first
from persistence.tables.audit import audit_events, audit_seals

Regions = frozenset[str] | None
"""Where the reader holds `audit:read`: a set of regions, or None for every region."""


@dataclass(frozen=True)
class AuditFilter:
    actor_id: str | None = None
    actor_kind: str | None = None
    subject_kind: str | None = None
    subject_id: str | None = None
    action: str | None = None
    region: str | None = None
    since: datetime | None = None
    """Inclusive lower bound on `occurred_at`."""
    until: datetime | None = None
    """Exclusive upper bound on `occurred_at`."""


@dataclass(frozen=True)
class AuditEventRow:
    seq: int
    occurred_at: datetime
    actor_kind: str
    actor_id: str
    action: str
    subject_kind: str
    subject_id: str
    region: str | None
    request_id: str | None
    reason: str | None
    before: Any
    after: Any
    event_hash: str
    seal_position: int | None


def sees_every_region(regions: Regions) -> bool:
    return regions is None or regions >= KNOWN_REGIONS


def visible(regions: Regions) -> sa.ColumnElement[bool]:
    """The visibility predicate for a reader holding `audit:read` in `regions`."""
    if sees_every_region(regions):
        return sa.true()
    assert regions is not None
    if not regions:
        return sa.false()
    return audit_events.c.region == sa.any_(sa.bindparam("audit_regions", sorted(regions), type_=ARRAY(sa.String)))


def _filtered(flt: AuditFilter) -> list[sa.ColumnElement[bool]]:
    c = audit_events.c
    where: list[sa.ColumnElement[bool]] = []
    if flt.actor_id is not None:
        where.append(c.actor_id == flt.actor_id)
    if flt.actor_kind is not None:
        where.append(c.actor_kind == flt.actor_kind)
    if flt.subject_kind is not None:
        where.append(c.subject_kind == flt.subject_kind)
    if flt.subject_id is not None:
        where.append(c.subject_id == flt.subject_id)
    if flt.action is not None:
        where.append(c.action == flt.action)
    if flt.region is not None:
        where.append(c.region == flt.region)
    if flt.since is not None:
        where.append(c.occurred_at >= flt.since)
    if flt.until is not None:
        where.append(c.occurred_at < flt.until)
    return where


def _select() -> sa.Select[Any]:
    return sa.select(audit_events, audit_seals.c.position.label("seal_position")).select_from(
        audit_events.outerjoin(audit_seals, audit_seals.c.event_seq == audit_events.c.seq)
    )


def _row(row: sa.RowMapping) -> AuditEventRow:
    return AuditEventRow(
        seq=row["seq"],
        occurred_at=row["occurred_at"],
        actor_kind=row["actor_kind"],
        actor_id=row["actor_id"],
        action=row["action"],
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        region=row["region"],
        request_id=row["request_id"],
        reason=row["reason"],
        before=row["before"],
        after=row["after"],
        event_hash=row["event_hash"],
        seal_position=row["seal_position"],
    )


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"audit:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        prefix, _, seq = raw.partition(":")
        if prefix != "audit":
            raise ValueError(raw)
        return int(seq)
    except ValueError as exc:
        raise DomainError.invalid_input("`after` is not a cursor this API issued", field="after") from exc


def _page(rows: Sequence[AuditEventRow], first: int, after: str | None) -> Page[AuditEventRow]:
    items = list(rows[:first])
    return Page(
        items=items,
        cursors=[encode_cursor(r.seq) for r in items],
        has_next=len(rows) > first,
        has_previous=after is not None,
    )


async def list_events(
    session: AsyncSession,
    regions: Regions,
    flt: AuditFilter,
    *,
    first: int = 50,
    after: str | None = None,
    newest_first: bool = True,
) -> Page[AuditEventRow]:
    """One statement: the page of events matching `flt` that the reader may see, in log (`seq`) order."""
    check_first(first)
    after_seq = decode_cursor(after)
    seq = audit_events.c.seq
    stmt = _select().where(visible(regions), *_filtered(flt))
    if after_seq is not None:
        stmt = stmt.where(seq < after_seq if newest_first else seq > after_seq)
    stmt = stmt.order_by(seq.desc() if newest_first else seq.asc()).limit(first + 1)
    rows = [_row(r) for r in (await session.execute(stmt)).mappings()]
    return _page(rows, first, after)


HistoryKey = tuple[str, str, int, str | None]
"""(subject kind, subject id, first, after) of one `history` field."""


async def histories(session: AsyncSession, regions: Regions, keys: Sequence[HistoryKey]) -> list[Page[AuditEventRow]]:
    """Oldest-first histories of many subjects: one statement per distinct (first, after), usually one in all.

    Each subject's page is cut in SQL with `row_number() OVER (PARTITION BY subject)`, so a page of 100 cases
    with their histories costs one statement, not 100.
    """
    for _, _, first, _ in keys:
        check_first(first)
    groups: dict[tuple[int, str | None], list[tuple[str, str]]] = {}
    for kind, subject_id, first, after in keys:
        groups.setdefault((first, after), []).append((kind, subject_id))
    found: dict[HistoryKey, list[AuditEventRow]] = {}
    c = audit_events.c
    for (first, after), subjects in groups.items():
        after_seq = decode_cursor(after)
        rank = sa.func.row_number().over(partition_by=(c.subject_kind, c.subject_id), order_by=c.seq).label("rank")
        inner = (
            _select()
            .add_columns(rank)
            .where(visible(regions), sa.tuple_(c.subject_kind, c.subject_id).in_(sorted(set(subjects))))
        )
        if after_seq is not None:
            inner = inner.where(c.seq > after_seq)
        sub = inner.subquery()
        stmt = sa.select(sub).where(sub.c.rank <= first + 1).order_by(sub.c.subject_kind, sub.c.subject_id, sub.c.seq)
        for r in (await session.execute(stmt)).mappings():
            found.setdefault((r["subject_kind"], r["subject_id"], first, after), []).append(_row(r))
    return [_page(found.get(key, []), key[2], key[3]) for key in keys]


async def iter_export(
    session: AsyncSession,
    *,
    since: datetime | None,
    until: datetime | None,
    chunk: int = 1000,
) -> AsyncResult[Any]:
    """Every event in `[since, until)` in seq order with its seal, streamed (server-side cursor)."""
    stmt = (
        _select()
        .add_columns(audit_seals.c.chain_hash)
        .where(*_filtered(AuditFilter(since=since, until=until)))
        .order_by(audit_events.c.seq)
        .execution_options(yield_per=chunk)
    )
    return await session.stream(stmt)


async def count_events(session: AsyncSession, *, since: datetime | None, until: datetime | None) -> int:
    stmt = sa.select(sa.func.count()).select_from(audit_events).where(*_filtered(AuditFilter(since=since, until=until)))
    return int((await session.execute(stmt)).scalar_one())


__all__ = [
    "MAX_PAGE",
    "AuditEventRow",
    "AuditFilter",
    "HistoryKey",
    "Regions",
    "count_events",
    "histories",
    "iter_export",
    "list_events",
    "sees_every_region",
    "visible",
]
