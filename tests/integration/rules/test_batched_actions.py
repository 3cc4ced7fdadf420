"""A batch's LIVE label actions are taken together (``persistence.rule_labels.take_labels``): a fixed number of
round trips however many hits, with the daily cap, the circuit breaker and the at-least-once evaluation as when each
action was taken on its own: the first ones of the batch counted, the rest withheld and enqueued for a human, and a
second evaluation of the same events (after the first, or at the same time) taking, counting and enqueueing nothing
again. The batched tallies (``rule_runtime.count_actions``) are held to the one-action-at-a-time ones
(``count_action``, still used for the other actions) on random sequences, and the batched label writes to the
delayed action's one (``write_label``)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.rules import Label
from domain.rules.event import Event
from domain.rules.memory import MemoryCounterStore
from domain.services.events import Accepted
from domain.services.rule_runs import ActiveRule, Outcome, RunSummary, run_rules
from domain.services.rules import RuleState
from persistence import rule_backlog, rule_runtime
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.fast.sql import create_pool, recording_queries
from persistence.rule_labels import LabelTake, take_labels, write_label
from persistence.rule_ports import PostgresRunPorts
from persistence.uow import AuditContext, SqlUnitOfWork
from tests.integration.conftest import GraphQLClient
from tests.integration.events.helpers import fetch
from tests.integration.operations.helpers import raw_id
from tests.integration.rules.test_rule_actions import _live, _world, coins

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
LABEL = 'label(account, "coins", 1d)'
EFFECTS = """
SELECT (SELECT count(*) FROM rule_hits) AS hits,
       (SELECT count(*) FROM reports) AS reports,
       (SELECT coalesce(array_agg(entity_id || ':' || name || ':' || version ORDER BY entity_id, name), '{}')
          FROM labels) AS labels,
       (SELECT coalesce(array_agg(rule_id::text || ':' || action_kind || ':' || count
                                  ORDER BY rule_id, action_kind), '{}') FROM rule_action_tallies) AS tallies,
       (SELECT coalesce(array_agg(rule_id::text || ':' || event_id::text || ':' || action_kind || ':' || nth || ':'
                                  || result::text ORDER BY rule_id, event_id, action_kind, nth), '{}')
          FROM rule_action_takes) AS takes,
       (SELECT count(*) FROM audit_events WHERE action = 'ruleLabel') AS labels_audited,
       (SELECT count(*) FROM audit_events WHERE action = 'ruleAction') AS actions_audited
"""


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(db_url, size=4)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    created = create_engine(db_url, pool_size=4)
    try:
        yield created
    finally:
        await created.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return create_session_factory(engine)


@contextmanager
def session_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements the SQLAlchemy engine sends while inside (the units of work's)."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


def _posted(video: str, account: str = "creator-1") -> Accepted:
    entities = {"account": account, "content": video}
    event_ = Event("content.posted", "US", entities, {"text": "free coins"}, T0, f"{video}-{uuid.uuid4().hex[:6]}")
    return Accepted(uuid.uuid4(), event_, duplicate=False)


async def _effects(db_url: str) -> dict[str, Any]:
    (row,) = await fetch(db_url, EFFECTS)
    return dict(row)


async def _run(
    pool: asyncpg.Pool, sessions: SessionFactory, batch: list[Accepted], **ports: Any
) -> tuple[RunSummary, list[str]]:
    loaded = await rule_runtime.load_rules(pool, T0)
    with recording_queries() as sent:
        summary = await run_rules(loaded, batch, PostgresRunPorts(pool, sessions, MemoryCounterStore(), **ports), T0)
    # Left out: asyncpg's look-up of a type the first time a connection meets it (once per connection).
    return summary, [q for q in sent if "typeinfo_tree" not in q and "'jit'" not in q]


def _outcomes(summary: RunSummary) -> list[tuple[str, str | None]]:
    return [(a.outcome.value, a.reason) for h in summary.hits for a in h.actions]


@pytest.mark.parametrize("capped", [False, True])
async def test_the_round_trips_of_a_batch_do_not_grow_with_its_live_hits(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory, engine: AsyncEngine, capped: bool
) -> None:
    admin = await _world(gql, db_url)
    await _live(gql, admin, coins(LABEL), **({"dailyActionCap": 1000} if capped else {}))
    sent: dict[int, list[str]] = {}
    for hits in (1, 25):
        batch = [_posted(f"v-{hits}-{i}", f"account-{hits}-{i}") for i in range(hits)]
        with session_statements(engine) as units_of_work:
            summary, sent[hits] = await _run(pool, sessions, batch)
        assert _outcomes(summary) == [("TAKEN", "account labelled coins")] * hits
        assert units_of_work == []  # no unit of work of its own per label
    # The same statements for 1 and for 25 labels: the facts and snoozes read, the labels' transaction (BEGIN, the
    # actions' records, the tallies read and written, the labels, their audit records, COMMIT), the hits.
    assert sent[25] == sent[1]
    assert len(sent[1]) == 10, sent[1]
    effects = await _effects(db_url)
    assert (effects["hits"], len(effects["labels"]), effects["labels_audited"]) == (26, 26, 26)
    assert len(effects["takes"]) == 26
    # the breaker, and the rule's cap when it has one
    assert sorted(t.split(":", 1)[1] for t in effects["tallies"]) == ["LABEL:26"] * (2 if capped else 1)


async def test_a_cap_of_3_with_10_hits_in_one_batch_takes_3_and_enqueues_7_once(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory
) -> None:
    videos = tuple(f"v-{i}" for i in range(10))
    admin = await _world(gql, db_url, videos)
    rule_id = raw_id(await _live(gql, admin, coins(LABEL), dailyActionCap=3))
    batch = [_posted(video) for video in videos]
    first, _ = await _run(pool, sessions, batch)
    outcomes = _outcomes(first)
    assert outcomes == [("TAKEN", "account labelled coins")] * 3 + [("WITHHELD", "daily cap")] * 7
    assert all(a.case_id is not None for h in first.hits[3:] for a in h.actions)  # enqueued for a human
    once = await _effects(db_url)
    assert once["labels"] == ["creator-1:coins:3"]  # one label, written by three hits
    assert once["tallies"] == sorted([f"{uuid.UUID(int=0)}:LABEL:3", f"{rule_id}:LABEL:3"])
    assert (once["reports"], len(once["takes"]), once["labels_audited"]) == (7, 10, 3)
    # The sweeper's evaluation (each action looks for its record first) and one not knowing it is a second: the
    # same results, nothing taken, counted, written or enqueued again.
    again, _ = await _run(pool, sessions, batch, again=True)
    assert await _effects(db_url) == once
    blind = await rule_backlog.evaluate(pool, sessions, None, batch, T0 + timedelta(minutes=1))
    assert await _effects(db_url) == once
    assert [h.actions for h in again.hits] == [h.actions for h in first.hits]
    assert [h.actions for h in blind.hits] == [h.actions for h in first.hits]


async def test_two_evaluations_of_a_batch_at_once_take_its_labels_once(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory
) -> None:
    videos = tuple(f"v-{i}" for i in range(6))
    admin = await _world(gql, db_url, videos)
    await _live(gql, admin, coins(f'{LABEL}, label(content, "seen", 1d)'), dailyActionCap=8)
    batch = [_posted(video) for video in videos]
    one, other = await asyncio.gather(
        rule_backlog.evaluate(pool, sessions, None, batch, T0), rule_backlog.evaluate(pool, sessions, None, batch, T0)
    )
    assert [h.actions for h in one.hits] == [h.actions for h in other.hits]
    effects = await _effects(db_url)
    taken = [(Outcome.TAKEN, "account labelled coins"), (Outcome.TAKEN, "content labelled seen")]
    outcomes = [(a.outcome, a.reason) for h in one.hits for a in h.actions]
    assert outcomes == taken * 4 + [(Outcome.WITHHELD, "daily cap")] * 4
    # The two labels an event past the cap had enqueue one report (its key: the rule, the event, the kind).
    assert (effects["hits"], effects["reports"], len(effects["takes"]), effects["labels_audited"]) == (6, 2, 12, 8)
    assert effects["labels"] == ["creator-1:coins:4"] + [f"v-{i}:seen:1" for i in range(4)]
    assert sorted(t.split(":", 1)[1] for t in effects["tallies"]) == ["LABEL:8", "LABEL:8"]


def _rule_text(name: str, word: str, then: str) -> str:
    return f'rule "{name}"\non content.posted\nin US\npolicy SPAM\nwhen contains(lower(text), "{word}")\nthen {then}\n'


async def test_the_breaker_and_the_caps_of_a_batch_in_the_batchs_order(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory
) -> None:
    videos = tuple(f"v-{i}" for i in range(6))
    admin = await _world(gql, db_url, videos)
    capped = raw_id(await _live(gql, admin, _rule_text("a", "coins", LABEL), dailyActionCap=2))
    await _live(gql, admin, _rule_text("b", "cheap", 'label(account, "cheap", 1d)'))
    texts = ["coins", "coins", "coins", "cheap", "cheap", "coins"]
    batch = [_posted(video) for video in videos]
    batch = [
        Accepted(
            a.event_id, Event(a.event.type, "US", a.event.entities, {"text": text}, T0, a.event.idempotency_key), False
        )
        for a, text in zip(batch, texts, strict=True)
    ]
    summary, _ = await _run(pool, sessions, batch, breaker=3)
    # One hit per event, in the batch's order. The third is past a's cap, and the breaker's count is not made for
    # it: the fourth is taken; the fifth is past the breaker, and so is the sixth (whose cap is spent too).
    assert [(h.rule.name, *_outcomes_of(h)) for h in summary.hits] == [
        ("a", "TAKEN", "account labelled coins"),
        ("a", "TAKEN", "account labelled coins"),
        ("a", "WITHHELD", "daily cap"),
        ("b", "TAKEN", "account labelled cheap"),
        ("b", "WITHHELD", "circuit breaker"),
        ("a", "WITHHELD", "circuit breaker"),
    ]
    effects = await _effects(db_url)
    assert effects["tallies"] == sorted([f"{uuid.UUID(int=0)}:LABEL:3", f"{capped}:LABEL:2"])
    assert effects["reports"] == 3  # each withheld one enqueued


def _outcomes_of(hit: Any) -> tuple[str, str | None]:
    [action] = hit.actions
    return action.outcome.value, action.reason


def _json(stored: str | None) -> Any:
    return None if stored is None else orjson.loads(stored)


def _rule(region: str, cap: int | None) -> ActiveRule:
    return ActiveRule(uuid.uuid4(), 1, region, "r", RuleState.LIVE, None, cap, None)


async def _tallies(pool: asyncpg.Pool) -> list[tuple[Any, ...]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT day, region, rule_id, action_kind, count FROM rule_action_tallies ORDER BY 1, 2, 3, 4"
        )
        await conn.execute("DELETE FROM rule_action_tallies")
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("seed", range(6))
async def test_the_batched_tallies_count_as_one_action_at_a_time_does(
    db_url: str, pool: asyncpg.Pool, sessions: SessionFactory, seed: int
) -> None:
    """``count_actions`` against ``count_action`` (each action in a transaction of its own) on a random sequence:
    rules of two regions with and without caps, some tallies already counted, a small breaker."""
    draw = random.Random(seed)
    rules = [_rule(draw.choice(["US", "EU"]), draw.choice([None, 1, 2, 5])) for _ in range(5)]
    sequence = [draw.choice(rules) for _ in range(draw.randint(1, 30))]
    breaker = draw.randint(1, 12)
    already = [
        (
            r.region,
            r.rule_id if r.daily_action_cap is not None and draw.random() < 0.5 else rule_runtime.BREAKER_RULE,
            draw.randint(1, 3),
        )
        for r in rules
    ]

    async def start() -> None:
        async with pool.acquire() as conn:
            for region, rule_id, count in already:
                await conn.execute(
                    "INSERT INTO rule_action_tallies VALUES ($1, $2, $3, 'LABEL', $4) ON CONFLICT DO NOTHING",
                    T0.date(),
                    region,
                    rule_id,
                    count,
                )

    await start()
    one_by_one: list[str | None] = []
    for rule in sequence:
        try:
            async with SqlUnitOfWork(sessions, AuditContext("AUTOMATION", "test", "test")) as uow:
                await rule_runtime.count_action(uow.session, rule, "LABEL", T0, breaker, object())
            one_by_one.append(None)
        except rule_runtime.QuotaSpent as spent:
            one_by_one.append(spent.reason)
    alone = await _tallies(pool)
    await start()
    async with pool.acquire() as conn, conn.transaction():
        together = await rule_runtime.count_actions(conn, sequence, "LABEL", T0, breaker, object())
    assert together == one_by_one
    assert await _tallies(pool) == alone


async def test_the_batched_labels_write_what_one_at_a_time_writes(
    gql: GraphQLClient, db_url: str, pool: asyncpg.Pool, sessions: SessionFactory
) -> None:
    """``take_labels`` against ``write_label`` (a delayed action's, one unit of work each) on the same writes: one
    label several times, by two rule versions, one with no expiry, and one the event cannot carry."""
    admin = await _world(gql, db_url)
    rule_ids = [raw_id(await _live(gql, admin, coins(LABEL).replace('"coins"\n', f'"{n}"\n', 1))) for n in "ab"]
    first, second = (ActiveRule(rule_ids[0], 1, "US", "a", RuleState.LIVE, None, None, None),
                     ActiveRule(rule_ids[1], 1, "US", "b", RuleState.LIVE, None, None, None))  # fmt: skip
    second_v2 = ActiveRule(rule_ids[1], 2, "US", "b", RuleState.LIVE, None, None, None)
    shared, other = _posted("v-1", "account-1"), _posted("v-2", "account-2")
    no_account = Accepted(uuid.uuid4(), Event("content.posted", "US", {"content": "v-3"}, {}, T0, "k-3"), False)
    writes = [
        (first, shared, Label("account", "coins", timedelta(days=1))),
        (second, other, Label("account", "coins", None)),
        (second_v2, shared, Label("account", "coins", timedelta(hours=2))),
        (first, no_account, Label("account", "coins", timedelta(days=1))),
        (first, other, Label("content", "seen", timedelta(days=3))),
        (second, shared, Label("account", "coins", timedelta(days=5))),
    ]

    async def mark() -> int:
        (row,) = await fetch(db_url, "SELECT coalesce(max(seq), 0) AS seq FROM audit_events")
        return int(row["seq"])

    async def written(since: int) -> tuple[list[Any], list[Any]]:
        labels = await fetch(
            db_url,
            "SELECT id, region, entity_kind, entity_id, name, rule_id, rule_version, expires_at, created_at, "
            "updated_at, version FROM labels ORDER BY entity_kind, entity_id, name",
        )
        ids = {r["id"]: (r["entity_kind"], r["entity_id"], r["name"]) for r in labels}
        audited = await fetch(
            db_url,
            "SELECT actor_kind, actor_id, action, subject_kind, subject_id, region, request_id, reason, before, after "
            "FROM audit_events WHERE action = 'ruleLabel' AND seq > $1 ORDER BY seq",
            since,
        )
        await fetch(db_url, "DELETE FROM labels")
        rows = [{k: v for k, v in r.items() if k != "id"} for r in labels]
        # ``before`` and ``after`` as values: the SQL units of work store an absent ``before`` as JSON null, the
        # asyncpg writers (``persistence.fast.sql.audit_arrays``) as SQL NULL; the hashes are of the values (and of
        # the time of writing, so not compared).
        events = [
            {
                **dict(r),
                "subject_id": ids[uuid.UUID(r["subject_id"])],
                "before": _json(r["before"]),
                "after": _json(r["after"]),
            }
            for r in audited
        ]
        return rows, events

    start = await mark()
    one_at_a_time = []
    for rule, accepted, action in writes:
        context = AuditContext("AUTOMATION", f"rule:{rule.rule_id}:v{rule.version}", "ruleLabel", "request-1")
        async with SqlUnitOfWork(sessions, context) as uow:
            one_at_a_time.append(await write_label(uow, rule, accepted, action, T0))
    alone = await written(start)
    start = await mark()
    takes = [LabelTake(rule, accepted, action, n) for n, (rule, accepted, action) in enumerate(writes)]
    together = await take_labels(pool, takes, T0, breaker=100, request_id="request-1", database=object())
    assert together == one_at_a_time
    assert await written(start) == alone
    assert [(r["entity_id"], r["version"], r["rule_version"]) for r in alone[0]] == [
        ("account-1", 3, 1),  # written three times, last by rule b's version 1
        ("account-2", 1, 1),
        ("v-2", 1, 1),
    ]
    assert len(alone[1]) == 5  # one audit record per write made
