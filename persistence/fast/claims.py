"""Claiming the next case of a queue: the domain's ``claim_next_case`` on four round trips.

The prefetch is one statement: the queue, and either the queue's most urgent free case locked with
``FOR UPDATE SKIP LOCKED`` (``persistence.operations.claimable_case``, compiled once for asyncpg) or, for a lease
renewal, the named case locked. The write is the case's version-guarded update and its audit event. Concurrent
claimers skip each other's locked rows, so every case goes to exactly one of them.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import sqlalchemy as sa

from domain import ports
from domain.case import Case
from domain.clock import Clock
from domain.queue import Queue, QueueSurface
from domain.region import Region
from domain.services.queue import ClaimReads
from domain.subject import SubjectKind
from persistence.fast.prefetched import NotLoaded, PrefetchedUnitOfWork, not_loaded, read_only
from persistence.fast.sql import Compiled, compile_statement, entity_from, labelled, nulls_as
from persistence.operations import claimable_case
from persistence.repositories import CASES, QUEUES
from persistence.tables.cases import cases
from persistence.tables.operations import queues
from persistence.uow import AuditContext


@functools.cache
def _prefetch(escalated: bool) -> Compiled:
    """Tagged rows: ``Q`` the queue, ``N`` its next free case (locked), ``K`` the case to renew (locked)."""
    queue_id: Any = sa.bindparam("queue_id", None)
    now: Any = sa.bindparam("now", None)
    renew: Any = sa.bindparam("renew_id", None)
    # A renewal looks for no next case (its queue parameter is NULL), so it locks nothing another claimer wants.
    next_queue: Any = sa.bindparam("next_queue_id", None)
    nxt = claimable_case(next_queue, now=now, escalated=escalated).cte("next_case")
    held = sa.select(cases).where(cases.c.id == renew).with_for_update().cte("renewed_case")
    return compile_statement(
        sa.union_all(
            sa.select(sa.literal("Q").label("k"), *labelled(queues.c, "q_"), *nulls_as(cases, "k_")).where(
                queues.c.id == queue_id
            ),
            sa.select(sa.literal("N").label("k"), *nulls_as(queues, "q_"), *labelled(nxt.c, "k_")),
            sa.select(sa.literal("K").label("k"), *nulls_as(queues, "q_"), *labelled(held.c, "k_")),
        )
    )


class ClaimUnitOfWork(PrefetchedUnitOfWork):
    """``async with ClaimUnitOfWork(pool, audit, ClaimReads.of(actor, queue_id), ...) as uow:`` then
    ``claim_next_case`` on it."""

    engine = "claiming"

    def __init__(
        self,
        pool: asyncpg.Pool,
        audit: AuditContext,
        reads: ClaimReads,
        *,
        regions: frozenset[str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(pool, audit, regions=regions, clock=clock)
        self._queue_id, self._escalated, self._renew = reads.queue_id, reads.escalated, reads.renew_case_id
        self._queue: Queue | None = None
        self._next: Case | None = None
        self._renewed: Case | None = None
        self._queues = _Queues(self)
        self._cases = _Cases(self)

    async def prefetch(self, conn: Any) -> None:
        compiled = _prefetch(self._escalated)
        next_queue = None if self._renew is not None else self._queue_id
        args = compiled.args(
            queue_id=self._queue_id, next_queue_id=next_queue, now=self.clock.now(), renew_id=self._renew
        )
        for row in await self.fetch(conn, compiled.sql, *args):
            if row["k"] == "Q":
                queue = entity_from(QUEUES, row, "q_")
                self._queue = read_only(queue) if self.visible(queue) else None
                continue
            case = entity_from(CASES, row, "k_")
            if not self.visible(case):
                continue
            if row["k"] == "N":
                self._next = self.track(CASES, case)
            else:
                self._renewed = self.track(CASES, case)

    # -- the port: what a claim loads ----------------------------------------------------------------------
    @property
    def queues(self) -> ports.QueueRepository:
        return self._queues

    @property
    def cases(self) -> ports.CaseRepository:
        return self._cases


class _Queues:
    def __init__(self, uow: ClaimUnitOfWork) -> None:
        self._uow = uow

    async def get(self, id: uuid.UUID) -> Queue | None:
        queue = self._uow._queue
        return queue if queue is not None and queue.id == id else None

    async def next_case(self, queue_id: uuid.UUID, *, now: datetime, escalated: bool) -> Case | None:
        if queue_id != self._uow._queue_id or escalated != self._uow._escalated:
            raise NotLoaded("the claim prefetched another queue or seniority")
        return self._uow._next

    async def get_by_name(self, region: Region, name: str) -> Queue | None:
        raise not_loaded(self._uow.engine, "queues by name")

    async def list_for(self, region: Region, surface: QueueSurface) -> list[Queue]:
        raise not_loaded(self._uow.engine, "queues by region")

    def add(self, queue: Queue) -> None:
        raise not_loaded(self._uow.engine, "new queues")


class _Cases:
    def __init__(self, uow: ClaimUnitOfWork) -> None:
        self._uow = uow

    async def get(self, id: uuid.UUID) -> Case | None:
        case = self._uow._renewed
        return case if case is not None and case.id == id else None

    async def find_open_for_subject(self, kind: SubjectKind, subject_id: uuid.UUID) -> Case | None:
        raise not_loaded(self._uow.engine, "open cases by subject")

    def add(self, case: Case) -> None:
        raise not_loaded(self._uow.engine, "new cases")
