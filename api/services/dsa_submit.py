"""One submission run: reconcile what a dead run left in flight, then send the PENDING statements in batches.

Each step is its own unit of work (committed, with its audit events) and no HTTP call runs inside a database
transaction: a batch is committed IN_FLIGHT before it is sent, and settled in a new unit of work after.

One run at a time, across processes: ``submit_alone`` holds a PostgreSQL advisory lock for the run (a run that
finds it held does nothing), so the dispatcher's periodic runs (``submit_periodically``, when VIGIL_DSA_ENDPOINT and
VIGIL_DSA_TOKEN are set) and ``vigil dsa submit`` never reconcile each other's batches in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from api.services.dsa_client import SubmissionFailed, TransparencyDatabaseClient
from api.settings import Settings
from domain.clock import Clock, SystemClock
from domain.dsa.services.records import resend_statement
from domain.dsa.services.submission import (
    BATCH_MAX,
    Tally,
    TransparencyDatabase,
    in_flight,
    reconcile,
    settle,
    take_batch,
)
from domain.errors import DomainError
from persistence.db import SessionFactory
from persistence.dsa_submission import decision_of_statement, submission_lock
from persistence.errors import database_unavailable
from persistence.repositories import PostgresUnitOfWork
from persistence.uow import AuditContext

SUBMITTER = "dsa-submitter"
log = logging.getLogger("vigil.dsa")


def _uow(sessions: SessionFactory, operation: str, clock: Clock) -> PostgresUnitOfWork:
    audit = AuditContext(actor_kind="SYSTEM", actor_id=SUBMITTER, operation=operation, reason="DSA art. 24(5)")
    return PostgresUnitOfWork(sessions, audit, clock=clock)


async def reconcile_in_flight(sessions: SessionFactory, database: TransparencyDatabase, clock: Clock) -> int:
    """Ask the database about every IN_FLIGHT statement's puid; settle each from the answer."""
    async with _uow(sessions, "reconcileStatements", clock) as uow:
        puids = [s.puid for s in await in_flight(uow)]
    found = {puid: await database.find(puid) for puid in puids}
    async with _uow(sessions, "reconcileStatements", clock) as uow:
        stuck = [s for s in await in_flight(uow) if s.puid in found]
        return reconcile(stuck, found, clock.now())


async def resend_rejected(sessions: SessionFactory, puids: Sequence[str], clock: Clock | None = None) -> None:
    """Queue REJECTED statements (by puid) to be sent again, unchanged (``vigil dsa submit --resend``): all of them
    or, when one is unknown or not REJECTED, none (``DomainError``)."""
    clock = clock or SystemClock()
    async with _uow(sessions, "resendStatement", clock) as uow:
        for puid in dict.fromkeys(puids):
            decision_id = await decision_of_statement(uow.session, puid)
            if decision_id is None:
                raise DomainError.not_found(f"no statement with puid {puid}", "puid")
            await resend_statement(uow, decision_id, {})


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


async def submit_alone(
    sessions: SessionFactory,
    database: TransparencyDatabase,
    *,
    batch_size: int = BATCH_MAX,
    clock: Clock | None = None,
    on_batch: Callable[[Tally], None] | None = None,
) -> Tally | None:
    """``submit_statements`` holding the submission lock; None (nothing done) when another run holds it."""
    async with submission_lock(sessions) as held:  # its own connection holds the lock for the whole run
        if not held:
            return None
        return await submit_statements(sessions, database, batch_size=batch_size, clock=clock, on_batch=on_batch)


async def submit_periodically(sessions: SessionFactory, settings: Settings, stop: asyncio.Event) -> None:
    """The dispatcher's share of DSA submission: a run every ``VIGIL_DSA_INTERVAL`` seconds until ``stop``. A run
    that fails (the database unreachable, PostgreSQL away) is logged and tried again at the next interval."""
    endpoint, token = settings.dsa_endpoint, settings.dsa_token
    if not endpoint or not token:
        raise ValueError("DSA submission needs VIGIL_DSA_ENDPOINT and VIGIL_DSA_TOKEN")
    while not stop.is_set():
        client = TransparencyDatabaseClient(
            endpoint, token, attempts=settings.dsa_attempts, backoff=settings.dsa_backoff
        )
        try:
            async with client:
                tally = await submit_alone(sessions, client, batch_size=settings.dsa_batch_size)
            if tally is not None and tally.batches:
                log.info("DSA statements sent", extra={"submitted": tally.submitted, "rejected": tally.rejected})
        except SubmissionFailed as exc:
            log.warning("DSA submission stopped; the next run resumes: %s", exc)
        except Exception as exc:
            if not database_unavailable(exc):
                log.exception("DSA submission failed; the next run resumes")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.dsa_interval)
