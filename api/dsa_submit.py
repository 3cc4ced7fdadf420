"""One submission run: reconcile what a dead run left in flight, then send the PENDING statements in batches.

Each step is its own unit of work (committed, with its audit events) and no HTTP call runs inside a database
transaction: a batch is committed IN_FLIGHT before it is sent, and settled in a new unit of work after.
"""

from __future__ import annotations

from collections.abc import Callable

from api.dsa_client import SubmissionFailed
from domain.clock import Clock, SystemClock
from domain.services.dsa_submission import (
    BATCH_MAX,
    Tally,
    TransparencyDatabase,
    in_flight,
    reconcile,
    settle,
    take_batch,
)
from persistence.db import SessionFactory
from persistence.repositories import UnitOfWork
from persistence.uow import AuditContext

SUBMITTER = "dsa-submitter"


def _uow(sessions: SessionFactory, operation: str, clock: Clock) -> UnitOfWork:
    audit = AuditContext(actor_kind="SYSTEM", actor_id=SUBMITTER, operation=operation, reason="DSA art. 24(5)")
    return UnitOfWork(sessions, audit, clock=clock)


async def reconcile_in_flight(sessions: SessionFactory, database: TransparencyDatabase, clock: Clock) -> int:
    """Ask the database about every IN_FLIGHT statement's puid; settle each from the answer."""
    async with _uow(sessions, "reconcileStatements", clock) as uow:
        puids = [s.puid for s in await in_flight(uow)]
    found = {puid: await database.find(puid) for puid in puids}
    async with _uow(sessions, "reconcileStatements", clock) as uow:
        stuck = [s for s in await in_flight(uow) if s.puid in found]
        return reconcile(stuck, found, clock.now())


async def submit_statements(
    sessions: SessionFactory,
    database: TransparencyDatabase,
    *,
    batch_size: int = BATCH_MAX,
    clock: Clock | None = None,
    on_batch: Callable[[Tally], None] | None = None,
) -> Tally:
    """Send every PENDING statement; returns what happened. ``SubmissionFailed`` leaves the batch IN_FLIGHT."""
    clock = clock or SystemClock()
    size = max(1, min(batch_size, BATCH_MAX))
    tally = Tally(reconciled=await reconcile_in_flight(sessions, database, clock))
    while True:
        async with _uow(sessions, "submitStatements", clock) as uow:
            batch, rejected = await take_batch(uow, size, clock.now())
        tally.rejected += rejected
        if not batch:
            if rejected:
                continue
            return tally
        batch_id = batch[0].batch_id
        assert batch_id is not None
        answer = await database.send([s.fields for s in batch])
        found = {puid: await database.find(puid) for puid in sorted(answer.duplicates)}
        async with _uow(sessions, "submitStatements", clock) as uow:
            step = settle(await uow.statements_of_reasons.list_in_batch(batch_id), answer, found, clock.now())
        tally.batches += 1
        tally.submitted += step.submitted
        tally.rejected += step.rejected
        if on_batch is not None:
            on_batch(step)
        if step.submitted + step.rejected == 0:  # refused whole with no reason to act on: stop, do not loop
            raise SubmissionFailed("the database refused a batch without saying which statement it refused")
