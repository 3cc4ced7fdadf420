"""`vigil consume` (platform events from NATS JetStream) and `vigil events prune` (retention by whole months)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import typer
from rich.console import Console

from api.bootstrap import resolve_database
from api.cli.export import when_option
from api.collector import tune_collector
from api.settings import ConfigError, load_settings
from domain.region import Region

events_app = typer.Typer(help="Platform events: retention.", no_args_is_help=True)
console = Console(stderr=True)


@events_app.command("prune")
def prune_command(
    before: str | None = typer.Option(
        None, "--before", help="Drop the months that end on or before this ISO date or date-time (UTC if no offset)."
    ),
) -> None:
    """Drop whole monthly partitions of platform events (and their idempotency keys). Without --before, keeps
    VIGIL_EVENTS_RETENTION_DAYS days (a month partly inside them is kept whole)."""
    from persistence.events import prune
    from persistence.fast.sql import create_pool

    settings = load_settings()
    cutoff = when_option(before, "--before")
    if cutoff is None:
        if settings.events_retention_days is None:
            raise ConfigError("give --before, or set VIGIL_EVENTS_RETENTION_DAYS")
        cutoff = datetime.now(UTC) - timedelta(days=settings.events_retention_days)

    async def run(url: str) -> list[str]:
        pool = await create_pool(url, size=1)
        try:
            return await prune(pool, cutoff)
        finally:
            await pool.close()

    database = resolve_database(settings)
    try:
        dropped = asyncio.run(run(database.url))
    finally:
        database.close()
    console.print(f"dropped {len(dropped)} partition(s){': ' + ', '.join(dropped) if dropped else ''}")


def rule_runner(pool: Any, sessions: Any, redis_url: str | None) -> Callable[[Sequence[Any]], Awaitable[None]]:
    """What a consumer does after storing a batch: run the rules on its new events (as ``submitEvents`` does)."""
    from domain.services.events import Accepted
    from persistence import rule_backlog

    async def evaluate(outcomes: Sequence[Any]) -> None:
        accepted = [o for o in outcomes if isinstance(o, Accepted)]
        await rule_backlog.evaluate(pool, sessions, redis_url, accepted, datetime.now(UTC))

    return evaluate


def consume_command(
    stream: str = typer.Option("PLATFORM_EVENTS", help="The JetStream stream (created if missing)."),
    subject: str = typer.Option("platform.events.>", help="The subjects to consume."),
    durable: str = typer.Option(
        "vigil-events", help="The durable consumer's name: every process with this name shares the work."
    ),
    region: list[Region] = typer.Option(
        [], "--region", help="Accept events of this region only (repeat; default: every region)."
    ),
    batch: int = typer.Option(500, min=1, max=1000, help="Messages per fetch (one transaction each)."),
) -> None:
    """Consume platform events from NATS JetStream (VIGIL_NATS_URL) into the event log, at least once, each
    idempotency key stored once. Start as many as needed, on any machine: they share one durable consumer."""
    from api.logs import configure_logging
    from api.services.events_consumer import EventConsumer
    from persistence.db import create_engine, create_session_factory
    from persistence.events import PostgresEventLog
    from persistence.fast.sql import create_pool
    from persistence.uow import AuditContext

    settings = load_settings()
    if not settings.nats_url:
        raise ConfigError("set VIGIL_NATS_URL to consume events from NATS JetStream")
    configure_logging(settings.log_level)
    nats_url = settings.nats_url

    async def run(url: str) -> None:
        pool = await create_pool(url, size=4)
        engine = create_engine(url, pool_size=2)
        audit = AuditContext(actor_kind="SYSTEM", actor_id=f"consumer:{durable}", operation="consumeEvents")
        evaluate = rule_runner(pool, create_session_factory(engine), settings.redis_url)
        from persistence.rule_runtime import cache_for

        await cache_for(pool).get()  # the rule sets before the first batch, not while it waits (seconds, if large)
        tune_collector(settings.gc_threshold)  # a batch's short-lived objects: as in a server worker
        consumer = EventConsumer(
            nats_url,
            lambda: PostgresEventLog(pool, audit, backlog="consumeEvents"),  # the rules' backlog, with each batch
            stream=stream,
            subject=subject,
            durable=durable,
            regions=region or None,
            batch=batch,
            max_depth=settings.max_json_depth,  # a message nests no deeper than a request body
            after_batch=evaluate,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        console.print(f"consuming {subject} from {stream} as {durable} (Ctrl-C stops)")
        try:
            await consumer.run(stop)
        finally:
            await consumer.close()
            await pool.close()
            await engine.dispose()
            s = consumer.stats
            console.print(f"stored {s.stored}, duplicates {s.duplicates}, refused {s.refused}")

    database = resolve_database(settings)
    try:
        asyncio.run(run(database.url))
    finally:
        database.close()
