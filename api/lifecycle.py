"""The serving process's background jobs, in one list: when each runs, how it starts, how it stops.

`JOBS` is the start order. `start_jobs` starts, in that order, every job whose condition holds (once the database
is reachable); `stop_jobs` stops them in the reverse order, awaiting each stop: one that fails is logged and the
others still stop. The audit sealer starts first, so it stops last and seals what the others wrote while stopping;
the authorizer's warm-up starts last, so it is the first to stop.

A new job is one `Job` entry: a name, the settings under which it runs, and a function that starts it and answers
how to stop it. A job that requests reach (a runner a resolver hands work to) also keeps its handle on `Jobs`, which
the GraphQL context getter reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from api import tracing
from api.metrics import sample_pools_forever
from api.services.backtest_jobs import BacktestRunner
from api.services.bulk_jobs import BulkJobRunner
from api.services.delayed_actions import DelayedActionRunner
from api.services.dispatcher import from_settings as dispatcher_from_settings
from api.services.dsa_submit import submit_periodically
from api.services.rule_backlog import BacklogRunner, drain
from api.settings import Settings
from authz import table_cache
from authz.enforcer import Authorizer
from persistence.audit import AuditSealer
from persistence.db import Engine, SessionFactory
from persistence.fast.sql import Pool

log = logging.getLogger("vigil.lifecycle")

Stop = Callable[[], Awaitable[None]]
"""How a started job stops: awaited until the job has finished."""


@dataclass(frozen=True)
class Resources:
    """What the jobs are built from: the app's settings and database handles, made before any job starts."""

    settings: Settings
    sessions: SessionFactory
    pool: Pool
    engine: Engine
    authorizer: Authorizer
    tables_dir: Path | None
    """Where the authorizer's tables are cached between processes (None: computed, never written)."""


@dataclass
class Jobs:
    """The running jobs: the handles the app and the GraphQL context reach, and how to stop each."""

    audit_sealer: AuditSealer | None = None
    authorizer_warm_up: asyncio.Task[None] | None = None
    bulk_runner: BulkJobRunner | None = None
    """Runs bulk jobs in this process (`bulkDecideCases` starts one at once); None when another process does."""
    backtest_runner: BacktestRunner | None = None
    stops: list[tuple[str, Stop]] = field(default_factory=list)
    """The started jobs, in start order."""


@dataclass(frozen=True)
class Job:
    name: str
    enabled: Callable[[Settings], bool]
    start: Callable[[Resources, Jobs], Stop]


class Watching(Protocol):
    """A runner that looks for work every few seconds (`watch`) and gives up what it holds when stopped."""

    async def watch(self) -> None: ...

    async def stop(self) -> None: ...


async def stop_task(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait until it has ended; a failure it ended with before is raised here."""
    task.cancel()
    await asyncio.wait({task})
    failure = None if task.cancelled() else task.exception()
    if failure is not None:
        raise failure


def watching(runner: Watching, name: str) -> Stop:
    """Start ``runner``'s watch; its stop ends the watch, then the runner's running work."""
    watch = asyncio.create_task(runner.watch(), name=name)

    async def stop() -> None:
        await stop_task(watch)
        await runner.stop()

    return stop


def until_signalled(run: Callable[[asyncio.Event], Coroutine[Any, Any, None]], name: str) -> Stop:
    """Start a loop that runs until its event is set; its stop sets the event and waits for the loop to end."""
    signal = asyncio.Event()
    task = asyncio.create_task(run(signal), name=name)

    async def stop() -> None:
        signal.set()
        await task

    return stop


async def warm_authorizer(authorizer: Authorizer, tables_dir: Path | None) -> None:
    """The authorizer's tables from ``tables_dir`` if they are there, else built by Casbin and written there."""
    if tables_dir is not None and table_cache.load(authorizer, tables_dir):
        return
    await authorizer.warm_up_gradually()
    if tables_dir is not None:
        table_cache.save(authorizer, tables_dir)


def _audit_sealer(resources: Resources, jobs: Jobs) -> Stop:
    sealer = jobs.audit_sealer = AuditSealer(
        resources.sessions, interval=resources.settings.audit_seal_interval, traced=tracing.background_tick
    )
    sealer.start()
    return sealer.stop


def _dsa_submission(resources: Resources, _: Jobs) -> Stop:
    return until_signalled(
        lambda stop: submit_periodically(resources.sessions, resources.settings, stop), "vigil-dsa-submission"
    )


def _outbox_dispatcher(resources: Resources, _: Jobs) -> Stop:
    settings = resources.settings
    dispatcher = dispatcher_from_settings(resources.pool, settings)
    return until_signalled(lambda stop: dispatcher.run(stop, interval=settings.dispatch_interval), "vigil-dispatcher")


def _backtest_runner(resources: Resources, jobs: Jobs) -> Stop:
    runner = jobs.backtest_runner = BacktestRunner(resources.pool)
    return watching(runner, "vigil-backtest-watch")


def _bulk_job_runner(resources: Resources, jobs: Jobs) -> Stop:
    runner = jobs.bulk_runner = BulkJobRunner(resources.pool)
    return watching(runner, "vigil-bulk-job-watch")


def _delayed_rule_actions(resources: Resources, _: Jobs) -> Stop:
    retention = resources.settings.rules_retention_days
    runner = DelayedActionRunner(resources.pool, resources.sessions, retention_days=retention)
    return watching(runner, "vigil-delayed-rule-actions")


def _rule_backlog(resources: Resources, _: Jobs) -> Stop:
    settings = resources.settings
    runner = BacklogRunner(resources.pool, resources.sessions, settings.redis_url, grace=settings.rules_backlog_grace)
    return watching(runner, "vigil-rule-backlog")


def _pool_sampler(resources: Resources, _: Jobs) -> Stop:
    pool, engine = resources.pool, resources.engine
    task = asyncio.create_task(sample_pools_forever(lambda: pool, engine), name="vigil-pool-sampler")
    return lambda: stop_task(task)


def _authorizer_warm_up(resources: Resources, jobs: Jobs) -> Stop:
    # Every (role, region) table is ready at start-up: read back from the data directory when a process over the
    # same policy wrote them (authz.table_cache), else computed beside serving rather than before it (about half a
    # second of Casbin work), one permission per event-loop turn: requests interleave, and one that needs a table
    # not built yet builds that one itself. (On the loop, not a thread: CPython 3.11's parser, which Casbin's
    # matcher uses, is not safe to run from two threads at once.)
    task = jobs.authorizer_warm_up = asyncio.create_task(
        warm_authorizer(resources.authorizer, resources.tables_dir), name="vigil-authorizer-warm-up"
    )
    return lambda: stop_task(task)


def _always(_: Settings) -> bool:
    return True


def _in_process_jobs(settings: Settings) -> bool:
    return settings.bulk_jobs_in_process


def _dispatching(settings: Settings) -> bool:
    return settings.dispatcher_enabled


def _submitting(settings: Settings) -> bool:
    """DSA statements go to the Transparency Database when it is configured, beside the dispatcher."""
    return settings.dispatcher_enabled and bool(settings.dsa_endpoint and settings.dsa_token)


JOBS: tuple[Job, ...] = (
    Job("audit sealer", _always, _audit_sealer),
    Job("DSA submission", _submitting, _dsa_submission),
    Job("outbox dispatcher", _dispatching, _outbox_dispatcher),  # outbox events to webhooks (and NATS)
    Job("backtest runner", _in_process_jobs, _backtest_runner),
    Job("bulk job runner", _in_process_jobs, _bulk_job_runner),
    Job("delayed rule actions", _in_process_jobs, _delayed_rule_actions),  # delay(...) actions when due; retention
    Job("rule evaluation backlog", _in_process_jobs, _rule_backlog),  # the rules again on what they missed
    Job("pool sampler", _always, _pool_sampler),
    Job("authorizer warm-up", _always, _authorizer_warm_up),
)
"""Every background job of `vigil serve`, in start order (they stop in the reverse order)."""


async def start_jobs(resources: Resources, jobs: Jobs, catalogue: tuple[Job, ...] = JOBS) -> None:
    """Start every enabled job of ``catalogue`` in order; if one fails to start, those started are stopped."""
    for job in catalogue:
        if not job.enabled(resources.settings):
            continue
        try:
            stop = job.start(resources, jobs)
        except Exception:
            await stop_jobs(jobs)
            raise
        jobs.stops.append((job.name, stop))


async def stop_jobs(jobs: Jobs) -> None:
    """Stop the started jobs, last started first, each awaited; a failing stop is logged and the next one runs.
    First, the rules' evaluations requests left running (shielded from their timeouts) are awaited, bounded: they
    write with the pools the jobs' stops precede the closing of."""
    try:
        await drain()
    except Exception:
        log.exception("awaiting the rules' evaluations in flight failed")
    while jobs.stops:
        name, stop = jobs.stops.pop()
        try:
            await stop()
        except Exception:
            log.exception("stopping the %s failed", name)
