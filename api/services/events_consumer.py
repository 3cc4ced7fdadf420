"""`vigil consume`: platform events from a NATS JetStream stream into the event log (and the rules), like
``submitEvents`` but pulled.

A durable pull consumer: every process started with the same durable name shares its messages (JetStream hands each
message to one of them), so consumers scale out by starting more, on any machine that reaches NATS and PostgreSQL.
A fetched batch goes through the same domain service as the API (``domain.services.events.submit_events``) in one
transaction; then each message is acknowledged (stored, a duplicate, or refused for good: a refused message is
terminated and logged with its error code, never redelivered). If the write fails, nothing is acknowledged and
JetStream redelivers after its ack wait: delivery is at least once, and the idempotency key makes it count once.
The rules run after the acknowledgements, at least once too: the batch's transaction notes its new events in the
rules' backlog (``vigil consume`` opens its logs with ``backlog``), deleted once the rules ran on them; what a
failed or interrupted evaluation left is evaluated again by ``vigil serve``'s sweeper (``BacklogRunner``).

A message is one event as JSON: ``{"type", "region", "entities": {"account": "u-1", ...}, "attributes": {...},
"occurredAt": ISO 8601 with offset, "idempotencyKey"}``; without ``idempotencyKey`` the ``Nats-Msg-Id`` header is
the key. It is decoded as a request body is, and refused past the same depth (``VIGIL_MAX_JSON_DEPTH``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from api.graphql.limits.json_values import decode, json_depth
from domain.clock import Clock, SystemClock
from domain.errors import DomainError
from domain.region import Region
from domain.services.events import Accepted, EventLog, SubmitEvent, make_submit_event, submit_events

log = logging.getLogger("vigil.consume")

DEFAULT_STREAM = "PLATFORM_EVENTS"
DEFAULT_SUBJECT = "platform.events.>"
DEFAULT_DURABLE = "vigil-events"


@runtime_checkable
class Settling(Protocol):
    """An event log that noted its batch in the rules' backlog (``persistence.events.PostgresEventLog``)."""

    async def settle(self) -> None: ...


@dataclass
class ConsumeStats:
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    batches: int = 0
    refusals: dict[str, int] = field(default_factory=dict)


MAX_DEPTH = 32
"""The deepest nesting a message may have (``VIGIL_MAX_JSON_DEPTH``, as a request body's)."""
_REGIONS = {region.value: region for region in Region}


def parse_message(
    data: bytes, headers: dict[str, str] | None, index: int, max_depth: int = MAX_DEPTH
) -> SubmitEvent | DomainError:
    """One message to a command (or the typed error that refuses it). The JSON is decoded as a request body is
    (``json_values.decode``: orjson where it gives ``json.loads``' value, so an integer past 64 bits keeps its
    digits) and refused past ``max_depth`` levels, as a request body is; a message that is not UTF-8 is decoded by
    ``json.loads`` (which also reads UTF-16 and UTF-32)."""
    try:
        try:
            text = data.decode()
        except UnicodeDecodeError:
            body = json.loads(data)
            depth = json_depth(body)
        else:
            body, depth, _ = decode(text)
    except RecursionError:
        depth = max_depth + 1
    except ValueError:  # UnicodeDecodeError is one
        return DomainError.invalid_input("the message is not JSON", f"events[{index}]")
    if depth > max_depth:
        return DomainError.invalid_input(f"the message nests deeper than {max_depth} levels", f"events[{index}]")
    if type(body) is not dict:
        return DomainError.invalid_input("the message is not a JSON object", f"events[{index}]")
    key = body.get("idempotencyKey") or (headers or {}).get("Nats-Msg-Id")
    entities, attributes = body.get("entities"), body.get("attributes", {})
    named = body.get("region")
    region = _REGIONS.get(named) if type(named) is str else None
    if region is None:
        return DomainError.invalid_input("region must be one of US, EU, APAC, ROW", f"events[{index}].region")
    if type(entities) is not dict or not all(type(v) is str for v in entities.values()):
        return DomainError.invalid_input("entities must map kinds to ids", f"events[{index}].entities")
    if type(attributes) is not dict:
        return DomainError.invalid_input("attributes must be a JSON object", f"events[{index}].attributes")
    try:
        occurred = datetime.fromisoformat(str(body.get("occurredAt")))
    except ValueError:
        return DomainError.invalid_input("occurredAt must be an ISO 8601 time", f"events[{index}].occurredAt")
    kind = body.get("type")
    if type(key) is not str or type(kind) is not str:
        return DomainError.invalid_input("type and idempotencyKey are strings", f"events[{index}]")
    return make_submit_event(kind, region, entities, attributes, occurred, key)


_NO_MESSAGES, _REQUEST_TIMEOUT, _CONFLICT, _CONTROL = "404", "408", "409", "100"


async def pull_batch(sub: Any, batch: int, wait: float) -> list[Any] | None:
    """``sub.fetch(batch, timeout=wait)`` for a nats-py pull subscription, taking what arrived in bulk: nats-py's
    fetch awaits each message of a batch through ``next_msg`` (a task, a timer and a uuid per message); this waits
    once per burst of messages and takes every message already in the subscription's queue. The pull requests are
    fetch's own: a no-wait request for what is there (with ``expires`` when nothing was queued, as fetch sends it),
    then, if nothing came, one that lingers until ``wait`` is over; status messages end a request (404, 408, 409) or are
    skipped (100), any other is fetch's error. Empty when nothing came in time.

    This reads nats-py's subscription internals (its pending queue, request subject and inbox): None when they are
    not there (another nats-py), and the caller uses ``fetch``. ``tests/unit/test_events_consumer_pull.py`` runs
    both on the same stream."""
    try:
        inner = sub._sub
        queue: asyncio.Queue[Any] = inner._pending_queue
        request_subject, inbox, nc = sub._nms, sub._deliver, sub._nc
    except AttributeError:
        return None
    if not isinstance(queue, asyncio.Queue) or not isinstance(request_subject, str) or not isinstance(inbox, str):
        return None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    messages: list[Any] = []

    def take(message: Any) -> bool:
        """Keep a message; True when it ends the current request."""
        inner._pending_size -= len(message.data)
        queue.task_done()
        status = message.headers.get("Status") if message.headers else None
        if not status:
            messages.append(message)
            return False
        if status == _CONTROL:
            return False
        if status in (_NO_MESSAGES, _REQUEST_TIMEOUT, _CONFLICT):
            return True
        raise nats.js.errors.APIError.from_msg(message)

    while not queue.empty() and len(messages) < batch:  # left by an earlier request: status messages are its own
        message = queue.get_nowait()
        inner._pending_size -= len(message.data)
        queue.task_done()
        if not (message.headers and message.headers.get("Status")):
            messages.append(message)
    if len(messages) >= batch:
        return messages
    for lingering in (False, True):
        if lingering and messages:
            return messages
        remaining = deadline - loop.time()
        if remaining <= 0:
            return messages
        request: dict[str, Any] = {"batch": batch - len(messages)}
        if lingering or not messages:
            request["expires"] = int(remaining * 1_000_000_000) - 100_000
        if not lingering:
            request["no_wait"] = True
        await nc.publish(request_subject, json.dumps(request).encode(), inbox)
        ended = False
        while not ended and len(messages) < batch:
            if queue.empty():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return messages
                try:
                    message = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    return messages
                ended = take(message)
            while not ended and len(messages) < batch and not queue.empty():
                ended = take(queue.get_nowait())
    return messages


_ACK, _TERM = b" 4\r\n+ACK\r\n", b" 5\r\n+TERM\r\n"  # a PUB command's size and payload, after the subject


async def acknowledge(nc: Any, acks: Sequence[tuple[Any, bool]]) -> None:
    """Acknowledge each message (True) or terminate it (False): what ``msg.ack()`` and ``msg.term()`` publish, one
    PUB each to the message's reply subject, written into the connection's buffer as one command (nats-py's publish
    checks, formats and queues each on its own: 1.8 µs a message, 0.2 µs here). Through ``ack``/``term`` one by one
    when a message is not a nats-py message of ``nc``'s, already acknowledged, or ``nc`` is not connected (their
    errors then): every message is acknowledged even if one fails, and the first failure is raised after them."""
    fast = nc is not None and getattr(nc, "is_connected", False) is True and hasattr(nc, "_send_command")
    if fast:
        fast = all(
            getattr(m, "_client", None) is nc and type(m.reply) is str and m.reply and m._ackd is False for m, _ in acks
        )
    if not fast:
        failure: BaseException | None = None
        for message, ok in acks:  # one after the other, not gathered: an acknowledgement does not wait
            try:
                await (message.ack() if ok else message.term())
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return
    command = b"".join([b"PUB " + m.reply.encode() + (_ACK if ok else _TERM) for m, ok in acks])
    await nc._send_command(command)
    nc.stats["out_msgs"] += len(acks)
    nc.stats["out_bytes"] += sum(4 if ok else 5 for _, ok in acks)
    for message, _ in acks:
        message._ackd = True
    if nc._flush_queue is not None and nc._flush_queue.empty():
        await nc._flush_pending()


_Stored = tuple[Sequence[Accepted | DomainError], EventLog]


class _RulesBehind:
    """Stored batches waiting for the rules, run by one task at a time: each evaluation takes every batch waiting
    when it starts. ``add`` returns at once while fewer than ``bound`` batches wait, and otherwise once the
    evaluation running took them."""

    def __init__(self, evaluate: Callable[[Sequence[_Stored]], Awaitable[None]], bound: int) -> None:
        self._evaluate, self._bound = evaluate, max(1, bound)
        self._waiting: list[_Stored] = []
        self._task: asyncio.Task[None] | None = None
        self._taken = asyncio.Event()

    async def add(self, stored: _Stored) -> None:
        self._waiting.append(stored)
        if self._task is None or self._task.done():
            self._start()
            return
        while len(self._waiting) >= self._bound and not self._task.done():
            self._taken.clear()
            await self._taken.wait()

    def _start(self) -> None:
        group, self._waiting = self._waiting, []
        self._task = asyncio.get_running_loop().create_task(self._run(group))
        self._task.add_done_callback(lambda _: self._taken.set())  # an ended task frees ``add`` too

    async def _run(self, group: list[_Stored]) -> None:
        while group:
            await self._evaluate(group)
            group, self._waiting = self._waiting, []
            self._taken.set()

    async def finish(self) -> None:
        """Until every batch added has been evaluated."""
        while self._task is not None:
            await self._task
            self._task = None
            if self._waiting:  # the task ended with batches left (an evaluation raised): they are run now
                self._start()


class EventConsumer:
    """One consumer process's loop. ``open_log`` gives the event log for a batch (a new audit batch each)."""

    def __init__(
        self,
        url: str,
        open_log: Callable[[], EventLog],
        *,
        stream: str = DEFAULT_STREAM,
        subject: str = DEFAULT_SUBJECT,
        durable: str = DEFAULT_DURABLE,
        regions: Collection[Region] | None = None,
        batch: int = 500,
        ack_wait: float = 30.0,
        max_depth: int = MAX_DEPTH,
        rules_behind: int = 2,
        clock: Clock | None = None,
        after_batch: Callable[[Sequence[Accepted | DomainError]], Awaitable[None]] | None = None,
    ) -> None:
        self.url, self.stream, self.subject, self.durable = url, stream, subject, durable
        self.regions = frozenset(regions) if regions else frozenset(Region)
        self.batch, self.ack_wait, self.max_depth = batch, ack_wait, max_depth
        self.rules_behind = rules_behind
        self.clock: Clock = clock or SystemClock()
        self.stats = ConsumeStats()
        self._open_log = open_log
        self._after_batch = after_batch
        self._nc: Any = None
        self._sub: Any = None

    async def subscription(self) -> Any:
        if self._sub is None:
            self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=-1)
            js = self._nc.jetstream(timeout=5)
            try:
                await js.stream_info(self.stream)
            except NotFoundError:
                await js.add_stream(name=self.stream, subjects=[self.subject])
            config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait, max_ack_pending=-1)
            self._sub = await js.pull_subscribe(self.subject, durable=self.durable, stream=self.stream, config=config)
        return self._sub

    async def run_once(self, wait: float = 1.0) -> int:
        """Fetch one batch (waiting up to ``wait`` seconds for the first message) and process it; how many messages."""
        messages = await self._fetch(wait)
        if messages:
            await self.process(messages)
        return len(messages)

    async def _fetch(self, wait: float) -> Sequence[Any]:
        sub = await self.subscription()
        try:
            drained = await pull_batch(sub, self.batch, wait)
            return list(await sub.fetch(self.batch, timeout=wait)) if drained is None else drained
        except (TimeoutError, NatsTimeout):  # nats-py raises either when nothing came
            return []

    async def process(self, messages: Sequence[Any]) -> None:
        stored = await self._store(messages)
        if stored is not None:
            await self._evaluate([stored])

    async def _store(self, messages: Sequence[Any]) -> tuple[list[Accepted | DomainError], EventLog] | None:
        """Store a batch and acknowledge its messages; its outcomes and log, or None when nothing could be stored
        (then every message is nak'd for redelivery)."""
        depth = self.max_depth
        commands = [parse_message(m.data, m.headers, i, depth) for i, m in enumerate(messages)]
        event_log = self._open_log()
        try:
            outcomes = await submit_events(
                event_log,
                commands,
                source_id=f"consumer:{self.durable}",
                now=self.clock.now(),
                may_submit=lambda region: region in self.regions,
            )
        except Exception:
            log.exception("a batch of %d events could not be stored; JetStream will redeliver it", len(messages))
            await asyncio.gather(*(m.nak() for m in messages), return_exceptions=True)
            return None
        self.stats.batches += 1
        acks: list[tuple[Any, bool]] = []
        for message, outcome in zip(messages, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                self.stats.refused += 1
                code = outcome.code.value
                self.stats.refusals[code] = self.stats.refusals.get(code, 0) + 1
                seq = getattr(message.metadata.sequence, "stream", None)
                log.warning("event refused (stream sequence %s): %s at %s", seq, code, outcome.field)
                acks.append((message, False))
            else:
                if outcome.duplicate:
                    self.stats.duplicates += 1
                else:
                    self.stats.stored += 1
                acks.append((message, True))
        await acknowledge(self._nc, acks)
        return outcomes, event_log

    async def _evaluate(self, stored: Sequence[tuple[Sequence[Accepted | DomainError], EventLog]]) -> None:
        """The rules on stored batches, together, after their acknowledgements. Each log noted its stored events in
        the rules' backlog with them (``persistence.rule_backlog``): the notes are deleted once the rules ran; after a
        failure they stay, and the server's sweeper runs the rules on those events again."""
        if self._after_batch is None:
            return
        outcomes = [outcome for batch, _ in stored for outcome in batch]
        try:
            await self._after_batch(outcomes)
        except Exception:
            log.exception("rules could not run on %d stored events; the backlog keeps them", len(outcomes))
            return
        for _, event_log in stored:
            if isinstance(event_log, Settling):
                try:
                    await event_log.settle()
                except Exception:  # evaluated again by the sweeper: harmless
                    log.exception("the backlog row of a consumed batch could not be deleted")

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set. While the rules run, the next batches are fetched, stored and acknowledged
        (the process works on one while it waits on PostgreSQL for the other), up to ``rules_behind`` batches; the
        rules then run on those together, in the order they were stored (counters are recorded in that order): one
        evaluation's statements for several batches when the rules fall behind, each batch on its own when they keep
        up. Every stored batch's rules run before this returns."""
        rules = _RulesBehind(self._evaluate, self.rules_behind)
        try:
            while not stop.is_set():
                try:
                    messages = await self._fetch(1.0)
                    stored = await self._store(messages) if messages else None
                except (OSError, nats.errors.Error) as exc:
                    log.warning("NATS unavailable (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(1.0)
                    continue
                if stored is not None:
                    await rules.add(stored)
        finally:
            await rules.finish()

    async def close(self) -> None:
        nc, self._nc, self._sub = self._nc, None, None
        if nc is not None:
            await nc.close()
