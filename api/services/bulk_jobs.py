"""Running bulk jobs in the server process: an asyncio task per job, chunk after chunk, and a watcher that takes
over RUNNING jobs whose lease expired (their process stopped), so a restarted server, another worker or the next
``vigil serve`` finishes them.

``run_chunk`` is one chunk, start to commit: tests drive it directly. A chunk that lost a race (a moderator
changed a case between the read and the write) runs again on fresh rows by the one retry policy
(``persistence.retry``); an item that failed after it had changed something (``ItemSpoiled``) is failed alone and
the chunk runs again without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid

import asyncpg

from api import tracing
from authz.enforcer import get_authorizer
from authz.permissions import Permission
from authz.principal import Principal, PrincipalKind
from domain.bulk import CHUNK_SIZE, BulkJob
from domain.clock import Clock
from domain.errors import DomainError
from domain.region import Region
from domain.services.bulk import ChunkOutcome, ChunkReads, Grant, ItemSpoiled, run_chunk
from persistence.fast.bulk import BulkUnitOfWork, roles_now
from persistence.retry import GaveUp, LostRace, retrying
from persistence.uow import AuditContext

log = logging.getLogger("vigil.bulk")
WATCH_INTERVAL = 15.0
RESUME_ACTOR = AuditContext(actor_kind="SYSTEM", actor_id="system:bulk-jobs", operation="resumeBulkJob")
RELEASE_ACTOR = AuditContext(actor_kind="SYSTEM", actor_id="system:bulk-jobs", operation="releaseBulkJob")


def job_audit(job: BulkJob) -> AuditContext:
    """Every item's changes are the submitter's, as a ``decideCase`` of theirs would be."""
    return AuditContext(
        actor_kind=job.principal_kind,
        actor_id=job.actor_id,
        operation="bulkDecideCases",
        request_id=job.request_id,
        reason=job.rationale,
    )


class BulkJobRunner:
    def __init__(
        self, pool: asyncpg.Pool, *, chunk_size: int = CHUNK_SIZE, owner: str | None = None, clock: Clock | None = None
    ) -> None:
        self.pool = pool
        self.chunk_size = chunk_size
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self._spoiled: dict[uuid.UUID, dict[uuid.UUID, DomainError]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: dict[asyncio.Task[None], uuid.UUID] = {}

    # -- one chunk -----------------------------------------------------------------------------------------
    async def standing(self, job: BulkJob) -> Grant | None:
        """What a staff submitter holds now (their roles are re-read before each chunk); None for a partner's or
        the system's job, which keeps the grant of its submission (a revoked token's job: cancel it)."""
        if job.principal_kind != PrincipalKind.STAFF.value:
            return None
        roles = await roles_now(self.pool, uuid.UUID(job.actor_id))
        permissions = get_authorizer().permission_map(Principal.staff(id=job.actor_id, display_name="", roles=roles))
        decide = permissions.regions(Permission.CASES_DECIDE)
        candidates = tuple(r.value for r in Region) if decide is None else tuple(decide)
        return Grant(
            principal_kind=job.principal_kind,
            decide_regions=None if decide is None else frozenset(decide),
            sanction_regions=frozen_regions(permissions.regions(Permission.ACCOUNTS_BAN)),
            seniority=max((permissions.seniority(r) for r in candidates), default=0),
        )

    async def run_chunk(self, job: BulkJob) -> ChunkOutcome:
        """The job's next chunk in one transaction (``job`` gives who acts and what is decided); traced as a root
        span linked to the submitting request's when it ran (``api.tracing.background_tick``)."""
        with tracing.background_tick("bulk chunk", link=job.traceparent) as tick:
            outcome = await self._run_chunk(job)
            if outcome.ran:
                tick.busy()
        return outcome

    async def _run_chunk(self, job: BulkJob) -> ChunkOutcome:
        standing = await self.standing(job)
        regions = job.decide_region_set
        if standing is not None:
            live = standing.decide_regions
            regions = live if regions is None else (regions if live is None else regions & live)
        while True:
            try:
                outcome = await retrying(
                    lambda _: self._chunk_once(job, regions, standing), what=f"bulk job {job.id} chunk"
                )
            except ItemSpoiled as spoiled:  # at most once per item: the chunk runs again without it
                log.warning("bulk job item failed after changing records; failing it alone", exc_info=True)
                self._spoiled.setdefault(job.id, {})[spoiled.item_id] = spoiled.error
                continue
            except GaveUp:
                log.info("bulk job %s chunk kept losing races; the next call tries again", job.id)
                return ChunkOutcome(ran=True)
            if outcome.finished or not outcome.ran:
                self._spoiled.pop(job.id, None)
            return outcome

    async def _chunk_once(self, job: BulkJob, regions: frozenset[str] | None, standing: Grant | None) -> ChunkOutcome:
        """One attempt at the chunk: ``BEGIN`` with the job locked, the prefetch, the domain, the write."""
        reads = ChunkReads.of(job, self.chunk_size)
        uow = BulkUnitOfWork.for_chunk(self.pool, job_audit(job), reads, regions=regions, clock=self.clock)
        async with uow:
            current = uow.data.job
            if current is None:
                return ChunkOutcome(ran=False)
            return await run_chunk(
                uow,
                current,
                uow.data.items[: self.chunk_size],
                lease_owner=self.owner,
                more=len(uow.data.items) > self.chunk_size,
                failed_before=self._spoiled.get(job.id),
                untouched=uow.changes,
                standing=standing,
            )

    # -- leases --------------------------------------------------------------------------------------------
    async def take_over(self) -> BulkJob | None:
        """Take the lease of one RUNNING job whose lease expired (or that nobody ran); None when there is none."""
        uow = BulkUnitOfWork(self.pool, RESUME_ACTOR, None, mode="expired", clock=self.clock)
        async with uow:
            job = uow.data.job
            if job is not None:
                job.take_lease(self.owner, uow.clock.now())
        return job

    async def release(self, job_id: uuid.UUID) -> bool:
        """Give up this process's lease on the job (stopping cleanly): the next process takes it over at once."""
        uow = BulkUnitOfWork(self.pool, RELEASE_ACTOR, job_id, mode="job", clock=self.clock)
        async with uow:
            job = uow.data.job
            return job is not None and job.release_lease(self.owner, uow.clock.now())

    # -- tasks ---------------------------------------------------------------------------------------------
    async def run(self, job: BulkJob) -> None:
        """Chunk after chunk until the job is done, cancelled, or no longer this process's."""
        while True:
            outcome = await self.run_chunk(job)
            if not outcome.ran or outcome.finished:
                return

    def start(self, job: BulkJob) -> None:
        task = asyncio.create_task(self._run_logged(job), name=f"vigil-bulk-job-{job.id}")
        self._tasks.add(task)
        self._running[task] = job.id
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._running.pop(task, None)

    async def _run_logged(self, job: BulkJob) -> None:
        try:
            await self.run(job)
        except asyncio.CancelledError:
            raise
        except Exception:  # the lease expires and another process (or the next start) resumes the job
            log.exception("bulk job %s stopped; it resumes once its lease expires", job.id)

    async def resume_expired(self) -> int:
        """Start every job whose lease expired; how many (a pass that found none leaves no trace)."""
        started = 0
        with tracing.background_tick("bulk watcher") as tick:
            while (job := await self.take_over()) is not None:
                tick.busy()
                log.info("resuming bulk job %s", job.id)
                self.start(job)
                started += 1
        return started

    async def watch(self, interval: float = WATCH_INTERVAL) -> None:
        while True:
            try:
                await self.resume_expired()
            except (OSError, asyncpg.PostgresError):
                log.warning("could not look for bulk jobs to resume; trying again later", exc_info=True)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        """Stop the running jobs and give their leases up, so the next process resumes them at once (if the
        database cannot be reached, the leases simply expire)."""
        running = list(self._running.items())
        for task, _ in running:
            task.cancel()
        for task, job_id in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task
            try:
                await self.release(job_id)
            except (OSError, asyncpg.PostgresError, LostRace):
                log.warning("could not release bulk job %s; it resumes once its lease expires", job_id)


def frozen_regions(regions: frozenset[str] | set[str] | None) -> frozenset[str] | None:
    """A permission's regions as a job stores them (None: every region)."""
    return None if regions is None else frozenset(regions)
