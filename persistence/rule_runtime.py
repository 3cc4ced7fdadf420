"""What running rules needs from PostgreSQL: the active rules compiled into one rule set per region (cached per
process and rebuilt in the background within a second of any edit), facts of the entities events name, snoozes,
the daily tallies behind caps and circuit breakers, the hits, and the labels rules put on entities.

The cache: a task polls a generation (the latest change and the count of rules and lists) every second and, when it
moved or a rule's expiry passed, rebuilds the rule sets off the request path; requests keep using the previous
sets meanwhile. So an edit takes effect on every worker within about a second plus the rebuild. The rebuild reuses
each region's list index while the versions of its lists stay the same, so a rule edit costs milliseconds to
rebuild; an edit of a list rebuilds its region's index (seconds for hundreds of thousands of entries).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any, Final

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.rules import ListIndex, ListKind, ListSnapshot, RuleError, RuleSet, define_rule
from domain.rules.compiler import CompiledRule
from domain.rules.ports import EntityFacts
from domain.services.rule_runs import ActionResult, ActiveRule, HitRecord, LoadedRules, Outcome
from domain.services.rules import RuleState, catalogue
from persistence.fast.sql import json_column, unrecorded
from persistence.rules import DEFAULT_SIGNALS

log = logging.getLogger("vigil.rules")

POLL_SECONDS: Final = 1.0
BREAKER_DAILY: Final = 10_000
"""Actions of one kind that rules may take per region and UTC day before the circuit breaker withholds more."""
BREAKER_RULE: Final = uuid.UUID(int=0)
SNOOZE_DAYS: Final = 7
"""After a human decided on an entity, rules record hits on it but take no action for this many days."""

_GENERATION = """
SELECT (SELECT coalesce(max(updated_at)::text, '') || '/' || count(*) FROM rules) || '|' ||
       (SELECT coalesce(max(updated_at)::text, '') || '/' || count(*) FROM named_lists)
"""
_RULES = """
SELECT r.id, r.region, r.name, r.state, v.number, v.source, v.policy_id, v.daily_action_cap, v.expires_at
FROM rules r JOIN rule_versions v ON v.rule_id = r.id AND v.number = r.current_version
WHERE r.state IN ('SHADOW', 'LIVE') AND (v.expires_at IS NULL OR v.expires_at > $1)
"""
_LIST_VERSIONS = """
SELECT l.region, l.name, l.kind, l.current_version FROM named_lists l WHERE l.region = ANY($1::text[])
"""
_LISTS = """
SELECT l.region, l.name, l.kind, l.current_version,
       coalesce(array_agg(e.value) FILTER (WHERE e.value IS NOT NULL), '{}') AS entries
FROM named_lists l LEFT JOIN named_list_entries e ON e.list_id = l.id AND e.removed_in IS NULL
WHERE l.region = ANY($1::text[])
GROUP BY l.id
"""
_WANTED = (
    "ROWS FROM (json_array_elements_text($1::json), json_array_elements_text($2::json),"
    " json_array_elements_text($3::json)) AS w(region, kind, id)"
)
"""The wanted entities, $1-$3 (``_json_columns``): region, kind and external id side by side."""
_FACTS = f"""
WITH w AS (SELECT * FROM {_WANTED})
SELECT w.region, w.kind, w.id, a.created_at, a.status::text AS status FROM w
  JOIN accounts a ON w.kind = 'account' AND a.region = w.region AND a.external_id = w.id
UNION ALL SELECT w.region, w.kind, w.id, c.created_at, c.visibility::text FROM w
  JOIN contents c ON w.kind = 'content' AND c.region = w.region AND c.external_id = w.id
UNION ALL SELECT w.region, w.kind, w.id, d.created_at, d.review_status::text FROM w
  JOIN ads d ON w.kind = 'ad' AND d.region = w.region AND d.external_id = w.id
"""  # noqa: S608 (constants only)
_LABELS = f"""
SELECT l.region, l.entity_kind, l.entity_id, array_agg(l.name) AS names
FROM labels l JOIN {_WANTED}
  ON l.region = w.region AND l.entity_kind = w.kind AND l.entity_id = w.id
WHERE l.expires_at IS NULL OR l.expires_at > $4
GROUP BY l.region, l.entity_kind, l.entity_id
"""  # noqa: S608 (constants only)
_SNOOZED = f"""
WITH w AS (SELECT * FROM {_WANTED}),
subjects AS (
  SELECT w.region, w.kind, w.id, a.id AS subject_id FROM w
    JOIN accounts a ON w.kind = 'account' AND a.region = w.region AND a.external_id = w.id
  UNION ALL SELECT w.region, w.kind, w.id, c.id FROM w
    JOIN contents c ON w.kind = 'content' AND c.region = w.region AND c.external_id = w.id
  UNION ALL SELECT w.region, w.kind, w.id, d.id FROM w
    JOIN ads d ON w.kind = 'ad' AND d.region = w.region AND d.external_id = w.id
)
SELECT s.region, s.entity_kind, s.entity_id FROM entity_snoozes s
  JOIN w ON s.region = w.region AND s.entity_kind = w.kind AND s.entity_id = w.id
WHERE s.until > $4
UNION
SELECT subjects.region, subjects.kind, subjects.id FROM subjects
WHERE EXISTS (SELECT 1 FROM decisions d WHERE d.subject_id = subjects.subject_id AND NOT d.automated
              AND d.decided_at > $4 - make_interval(days => $5))
"""  # noqa: S608 (constants only)
_TALLY = """
INSERT INTO rule_action_tallies AS t (day, region, rule_id, action_kind, count) VALUES ($1, $2, $3, $4, 1)
ON CONFLICT (day, region, rule_id, action_kind) DO UPDATE SET count = t.count + 1 WHERE t.count < $5
RETURNING count
"""
_HITS = """
INSERT INTO rule_hits (id, rule_id, rule_version, region, mode, event_id, event_occurred_at, subject_kind, subject_id,
                       actions, created_at)
SELECT u.id, u.rule_id, u.rule_version, u.region, u.mode, u.event_id, u.occurred_at, u.subject_kind, u.subject_id,
       u.actions::jsonb, $11
FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::uuid[], $7::timestamptz[], $8::text[],
            $9::text[], $10::text[])
  AS u(id, rule_id, rule_version, region, mode, event_id, occurred_at, subject_kind, subject_id, actions)
ON CONFLICT (rule_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
"""
# The tallies and the record of an action, in the action's own transaction (``count_action``).
_TALLY_SA = sa.text("""
INSERT INTO rule_action_tallies AS t (day, region, rule_id, action_kind, count)
VALUES (:day, :region, :rule_id, :kind, 1)
ON CONFLICT (day, region, rule_id, action_kind) DO UPDATE SET count = t.count + 1 WHERE t.count < :limit
RETURNING count
""")
_TAKE = sa.text("""
INSERT INTO rule_action_takes (rule_id, event_id, action_kind, nth, result, created_at)
VALUES (:rule_id, :event_id, :kind, :nth, CAST(:result AS jsonb), :now)
ON CONFLICT (rule_id, event_id, action_kind, nth) DO NOTHING
RETURNING 1
""")
_TAKEN = """
SELECT result FROM rule_action_takes WHERE rule_id = $1 AND event_id = $2 AND action_kind = $3 AND nth = $4
"""
_TAKENS = """
SELECT t.rule_id, t.event_id, t.action_kind, t.nth, t.result
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[]) AS w(rule_id, event_id, kind, nth)
  JOIN rule_action_takes t ON t.rule_id = w.rule_id AND t.event_id = w.event_id AND t.action_kind = w.kind
                          AND t.nth = w.nth
"""
# A batch's tallies of one action kind (``count_actions``): its rows locked and read (made, at zero, if the day has
# none yet), in one order (region, then rule id: the breaker's nil UUID first, as ``count_action`` takes them) so
# that batches wait for each other instead of deadlocking; then written as counted, and the rows left at zero
# (made here, nothing counted in them) removed.
_TALLIES_LOCK = """
INSERT INTO rule_action_tallies AS t (day, region, rule_id, action_kind, count)
SELECT $1, u.region, u.rule_id, $4, 0 FROM unnest($2::text[], $3::uuid[]) AS u(region, rule_id)
ORDER BY u.region, u.rule_id
ON CONFLICT (day, region, rule_id, action_kind) DO UPDATE SET count = t.count
RETURNING t.region, t.rule_id, t.count
"""
_TALLIES_SET = """
WITH u AS (SELECT * FROM unnest($2::text[], $3::uuid[], $4::int[]) AS u(region, rule_id, count)),
emptied AS (
  DELETE FROM rule_action_tallies t USING u
  WHERE u.count = 0 AND t.day = $1 AND t.region = u.region AND t.rule_id = u.rule_id AND t.action_kind = $5
)
UPDATE rule_action_tallies t SET count = u.count FROM u
WHERE u.count > 0 AND t.day = $1 AND t.region = u.region AND t.rule_id = u.rule_id AND t.action_kind = $5
"""


def _columns(wanted: Iterable[tuple[str, str, str]]) -> tuple[list[str], list[str], list[str]]:
    rows = sorted(set(wanted))
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def _json_columns(*columns: list[str]) -> list[str]:
    """The (region, kind, id) columns as the statements' ``ROWS FROM (json_array_elements_text(...) ...)`` take them."""
    return [json_column(c) for c in columns]


ListVersions = tuple[tuple[str, str, int], ...]
"""A region's lists as (name, kind, version), sorted: its list index is rebuilt only when they change."""


@dataclass
class BuildMemo:
    """What one rebuild of the rule sets leaves for the next (``load_rules``): each region's list index by the
    versions of its lists, and each rule version compiled, by the catalogue it was checked against."""

    indexes: dict[str, tuple[ListVersions, ListIndex]] = field(default_factory=dict)
    rules: dict[tuple[str, int], tuple[Hashable, CompiledRule]] = field(default_factory=dict)


async def load_rules(pool: asyncpg.Pool, now: datetime, memo: BuildMemo | None = None) -> LoadedRules:
    """Compile every SHADOW and LIVE rule in force, one rule set per region over its lists. A rule that no longer
    compiles (a list it reads was removed) is left out and logged.

    ``memo`` (the caller's, updated here): a region whose lists are unchanged keeps its list index, and their
    entries are not read again; a rule version checked against the same catalogue is not parsed again. So a rule
    edit rebuilds in milliseconds, where 40 lists of 10,000 terms take seconds to read and index and 200 rules a
    quarter of a second to parse."""
    memo = BuildMemo() if memo is None else memo
    indexes = memo.indexes
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch(_RULES, now)
        regions = sorted({r["region"] for r in rows})
        metas = await conn.fetch(_LIST_VERSIONS, regions)
        versions = _list_versions(metas, regions)
        stale = [region for region in regions if region not in indexes or indexes[region][0] != versions[region]]
        lists = await conn.fetch(_LISTS, stale) if stale else []
        policies = frozenset(await conn.fetchval("SELECT coalesce(array_agg(code), '{}') FROM policies"))
        classifiers = frozenset(
            await conn.fetchval("SELECT coalesce(array_agg(DISTINCT classifier), '{}') FROM automation_rules")
        )
    kept = {region: indexes[region][1] for region in regions if region not in stale}
    # Compiling the rules and building the list automata takes seconds for large lists: in a thread, so this
    # process's event loop keeps serving (requests go on with the previous rule sets, or wait for the first).
    loaded, built, compiled = await asyncio.to_thread(
        _build, rows, regions, metas, lists, kept, dict(memo.rules), policies, classifiers
    )
    memo.indexes = {region: (versions[region], index) for region, index in built.items()}
    memo.rules = compiled
    return loaded


def _list_versions(metas: Sequence[Any], regions: Sequence[str]) -> dict[str, ListVersions]:
    found: dict[str, list[tuple[str, str, int]]] = {region: [] for region in regions}
    for row in metas:
        found[row["region"]].append((row["name"], row["kind"], row["current_version"]))
    return {region: tuple(sorted(lists)) for region, lists in found.items()}


def _build(
    rows: Sequence[Any],
    regions: list[str],
    metas: Sequence[Any],
    lists: Sequence[Any],
    kept: dict[str, ListIndex],
    known_rules: dict[tuple[str, int], tuple[Hashable, CompiledRule]],
    policies: frozenset[str],
    classifiers: frozenset[str],
) -> tuple[LoadedRules, dict[str, ListIndex], dict[tuple[str, int], tuple[Hashable, CompiledRule]]]:
    """The rule sets, each region's list index (``kept`` ones reused, the others built from ``lists``) and each
    rule version compiled (``known_rules`` reused where the catalogue is the same)."""
    kinds_of: dict[str, dict[str, ListKind]] = {}
    for row in metas:
        kinds_of.setdefault(row["region"], {})[row["name"]] = ListKind(row["kind"])
    entries_of: dict[str, list[Any]] = {}
    for row in lists:
        entries_of.setdefault(row["region"], []).append(row)
    rulesets: dict[str, RuleSet] = {}
    indexes: dict[str, ListIndex] = {}
    active: dict[str, ActiveRule] = {}
    known = catalogue({}, policies, DEFAULT_SIGNALS | classifiers)
    done: dict[tuple[str, int], tuple[Hashable, CompiledRule]] = {}
    for region in regions:
        kinds = kinds_of.get(region, {})
        known = catalogue(kinds, policies, DEFAULT_SIGNALS | classifiers)
        checked_by = (tuple(sorted((name, kind.value) for name, kind in kinds.items())), policies, classifiers)
        compiled = []
        for row in (r for r in rows if r["region"] == region):
            key = (str(row["id"]), row["number"])
            try:
                found = known_rules.get(key)
                if found is not None and found[0] == checked_by and found[1].source == row["source"]:
                    rule = found[1]
                else:
                    rule = define_rule(row["source"], known, rule_id=key[0], version=key[1])
                done[key] = (checked_by, rule)
                compiled.append(rule)
            except RuleError as exc:
                log.warning("rule %s version %s no longer compiles (%s); skipped", row["id"], row["number"], exc.code)
                continue
            active[str(row["id"])] = ActiveRule(
                rule_id=row["id"],
                version=row["number"],
                region=region,
                name=row["name"],
                state=RuleState(row["state"]),
                policy_id=row["policy_id"],
                daily_action_cap=row["daily_action_cap"],
                expires_at=row["expires_at"],
            )
        index = kept.get(region)
        if index is None:
            index = ListIndex(
                ListSnapshot(r["name"], ListKind(r["kind"]), r["current_version"], list(r["entries"]))
                for r in entries_of.get(region, [])
            )
        indexes[region] = index
        rulesets[region] = RuleSet(compiled, index)
    expiries = [r.expires_at for r in active.values() if r.expires_at is not None]
    return LoadedRules(rulesets, active, known, min(expiries) if expiries else None), indexes, done


class RuleSetCache:
    """The rule sets of one pool's database, kept fresh by a polling task started with the first ``get``."""

    def __init__(self, pool: asyncpg.Pool, *, poll: float = POLL_SECONDS) -> None:
        self._pool = pool
        self._poll = poll
        self._loaded: LoadedRules | None = None
        self._memo = BuildMemo()
        self._generation: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._first = asyncio.Lock()
        self.rebuilds = 0
        self.rebuilt = asyncio.Event()
        """Set at each rebuild (tests and tools wait on it; clear it first)."""

    @property
    def closed(self) -> bool:
        return bool(self._pool.is_closing())

    async def get(self) -> LoadedRules:
        if self._loaded is None:
            async with self._first:  # requests arriving during the first load wait for it, not load again each
                if self._loaded is None:
                    with unrecorded():  # the process's cache, not the request's own statements
                        await self.refresh()
                    self._task = asyncio.get_running_loop().create_task(self._watch())
        assert self._loaded is not None
        return self._loaded

    async def refresh(self, *, force: bool = True) -> bool:
        """Rebuild if the generation moved (or ``force``); whether it rebuilt."""
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn:
            generation = await conn.fetchval(_GENERATION)
        stale = self._loaded is not None and self._loaded.valid_until is not None and self._loaded.valid_until <= now
        if not force and generation == self._generation and not stale:
            return False
        started = time.perf_counter()
        self._loaded = await load_rules(self._pool, now, self._memo)
        self._generation = generation
        self.rebuilds += 1
        self.rebuilt.set()
        log.info(
            "rule sets rebuilt: %d rules in %.1f ms", len(self._loaded.rules), (time.perf_counter() - started) * 1e3
        )
        return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            try:
                with unrecorded():
                    await self.refresh(force=False)
            except (asyncpg.InterfaceError, asyncpg.PostgresError, OSError):
                if self.closed:
                    return  # the pool went with its app
                log.warning("rule sets could not be refreshed; retrying")
            if self.closed:
                return

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()


_caches: dict[int, RuleSetCache] = {}


def cache_for(pool: asyncpg.Pool) -> RuleSetCache:
    """The process's cache for a pool (one per database connection pool)."""
    cache = _caches.get(id(pool))
    if cache is None or cache._pool is not pool:
        if cache is not None:
            cache.close()
        cache = _caches[id(pool)] = RuleSetCache(pool)
    return cache


_UNKNOWN_AGE = EntityFacts().age
"""The age of an entity Vigil has not heard of (the default)."""


async def fetch_facts(
    pool: asyncpg.Pool, wanted: Iterable[tuple[str, str, str]], now: datetime
) -> dict[tuple[str, str, str], EntityFacts]:
    """Facts of every wanted (region, kind, external id): known ones from their record, labels in force; an entity
    Vigil has not heard of yet has its region and labels only."""
    regions, kinds, ids = _columns(wanted)
    async with pool.acquire() as conn:
        columns = _json_columns(regions, kinds, ids)
        records = await conn.fetch(_FACTS, *columns)
        labelled = await conn.fetch(_LABELS, *columns, now)
    labels = {(r["region"], r["entity_kind"], r["entity_id"]): frozenset(r["names"]) for r in labelled}
    found = {(r["region"], r["kind"], r["id"]): r for r in records}
    facts: dict[tuple[str, str, str], EntityFacts] = {}
    # An entity Vigil has not heard of and that bears no label has its region's default facts: one (immutable)
    # object per region, not one per entity (most of a batch's accounts, on a platform that sends events first).
    unknown: dict[str, EntityFacts] = {}
    for key in zip(regions, kinds, ids, strict=True):
        row = found.get(key)
        entity_labels = labels.get(key)
        if row is None and entity_labels is None:
            default = unknown.get(key[0])
            if default is None:
                default = unknown[key[0]] = EntityFacts(region=key[0], signals=MappingProxyType({}))
            facts[key] = default
            continue
        facts[key] = EntityFacts(
            age=now - row["created_at"] if row is not None else _UNKNOWN_AGE,
            status=row["status"] if row is not None else "",
            region=key[0],
            labels=entity_labels or frozenset(),
        )
    return facts


async def snoozed(
    pool: asyncpg.Pool, wanted: Iterable[tuple[str, str, str]], now: datetime
) -> set[tuple[str, str, str]]:
    columns = _json_columns(*_columns(wanted))
    async with pool.acquire() as conn:
        rows = await conn.fetch(_SNOOZED, *columns, now, SNOOZE_DAYS)
    return {(r["region"], r["entity_kind"], r["entity_id"]) for r in rows}


async def take_quota(pool: asyncpg.Pool, rule: ActiveRule, action_kind: str, now: datetime, breaker: int) -> str | None:
    """One action counted against the region's breaker and the rule's daily cap; why not, if either is spent."""
    day = now.astimezone(UTC).date()
    cap = rule.daily_action_cap
    if cap is not None and cap <= 0:
        return "daily cap"
    try:
        async with pool.acquire() as conn, conn.transaction():
            if await conn.fetchval(_TALLY, day, rule.region, BREAKER_RULE, action_kind, breaker) is None:
                return "circuit breaker"
            if (
                cap is not None
                and await conn.fetchval(_TALLY, day, rule.region, rule.rule_id, action_kind, cap) is None
            ):
                raise _Spent  # roll the breaker's count back: nothing was done
    except _Spent:
        return "daily cap"
    return None


class _Spent(Exception):
    pass


class QuotaSpent(Exception):
    """Raised inside an action's transaction to roll it back: the rule's cap or the region's breaker is spent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AlreadyTaken(Exception):
    """Raised inside an action's transaction to roll it back: another evaluation of the event took it first."""


def _result_json(result: ActionResult) -> str:
    return orjson.dumps(result.as_dict()).decode()


def result_of(stored: object) -> ActionResult:
    found = orjson.loads(stored) if isinstance(stored, str | bytes) else stored
    assert isinstance(found, dict)
    case_id = found.get("case_id")
    return ActionResult(
        found["action"], Outcome(found["outcome"]), found.get("reason"), uuid.UUID(case_id) if case_id else None
    )


async def action_taken(
    pool: asyncpg.Pool, rule_id: uuid.UUID, event_id: uuid.UUID, kind: str, nth: int
) -> ActionResult | None:
    """What became of the ``nth`` action of ``kind`` a rule took on an event, if an evaluation recorded one."""
    async with pool.acquire() as conn:
        stored = await conn.fetchval(_TAKEN, rule_id, event_id, kind, nth)
    return None if stored is None else result_of(stored)


async def actions_taken(
    pool: asyncpg.Pool, keys: Sequence[tuple[uuid.UUID, uuid.UUID, str, int]]
) -> dict[tuple[uuid.UUID, uuid.UUID, str, int], ActionResult]:
    """``action_taken`` for many (rule id, event id, kind, nth) at once: those an evaluation recorded."""
    if not keys:
        return {}
    columns = list(zip(*keys, strict=True))
    async with pool.acquire() as conn:
        rows = await conn.fetch(_TAKENS, *(list(c) for c in columns))
    return {(r["rule_id"], r["event_id"], r["action_kind"], r["nth"]): result_of(r["result"]) for r in rows}


async def record_take(
    session: AsyncSession,
    rule_id: uuid.UUID,
    event_id: uuid.UUID,
    kind: str,
    nth: int,
    result: ActionResult,
    now: datetime,
) -> None:
    """Record an action's result in its own transaction; ``AlreadyTaken`` if another evaluation recorded it first
    (the caller's transaction then rolls back: the action is not taken twice)."""
    params = {"rule_id": rule_id, "event_id": event_id, "kind": kind, "nth": nth, "result": _result_json(result),
              "now": now}  # fmt: skip
    if (await session.execute(_TAKE, params)).first() is None:
        raise AlreadyTaken


_SpentKey = tuple[int, date, str, uuid.UUID, str, int]
_spent: dict[_SpentKey, str] = {}
"""Tallies this process saw at their limit: (database, by its session factory's id; day, region, rule id or
``BREAKER_RULE``, kind, limit) -> why."""


def spent(database: object, rule: ActiveRule, kind: str, now: datetime, breaker: int) -> str | None:
    """Why the action cannot be counted today, if this process saw its breaker or the rule's cap spent today."""
    day = now.astimezone(UTC).date()
    if _spent.get((id(database), day, rule.region, BREAKER_RULE, kind, breaker)) is not None:
        return "circuit breaker"
    cap = rule.daily_action_cap
    if cap is not None and _spent.get((id(database), day, rule.region, rule.rule_id, kind, cap)) is not None:
        return "daily cap"
    return None


def _saw_spent(key: _SpentKey, why: str) -> None:
    for old in [k for k in _spent if k[1] < key[1]]:  # yesterday's limits no longer hold
        del _spent[old]
    _spent[key] = why


async def count_action(
    session: AsyncSession, rule: ActiveRule, kind: str, now: datetime, breaker: int, database: object
) -> None:
    """``take_quota`` in an action's own transaction, last before its commit (the tallies' rows are locked only
    for the commit): ``QuotaSpent`` rolls the action and the counts back."""
    day = now.astimezone(UTC).date()
    counted = {"day": day, "region": rule.region, "kind": kind}
    breaker_left = await session.execute(_TALLY_SA, {**counted, "rule_id": BREAKER_RULE, "limit": breaker})
    if breaker_left.first() is None:
        _saw_spent((id(database), day, rule.region, BREAKER_RULE, kind, breaker), "circuit breaker")
        raise QuotaSpent("circuit breaker")
    cap = rule.daily_action_cap
    if cap is not None:
        cap_left = await session.execute(_TALLY_SA, {**counted, "rule_id": rule.rule_id, "limit": cap})
        if cap_left.first() is None:
            _saw_spent((id(database), day, rule.region, rule.rule_id, kind, cap), "daily cap")
            raise QuotaSpent("daily cap")


async def count_actions(
    conn: asyncpg.Connection, rules: Sequence[ActiveRule], kind: str, now: datetime, breaker: int, database: object
) -> list[str | None]:
    """``count_action`` for a batch of actions of one ``kind`` (one per rule given, in their order), in the caller's
    transaction (``conn``): the tallies' rows are locked until it ends. Each action in turn is counted against its
    region's breaker, then its rule's daily cap, as one action each would be: None if counted, else why not
    (``circuit breaker``: nothing counted; ``daily cap``: the breaker's count not made either). Two statements."""
    if not rules:
        return []
    day = now.astimezone(UTC).date()
    groups = sorted(
        {(r.region, BREAKER_RULE) for r in rules}
        | {(r.region, r.rule_id) for r in rules if r.daily_action_cap is not None}
    )
    rows = await conn.fetch(_TALLIES_LOCK, day, [g[0] for g in groups], [g[1] for g in groups], kind)
    found = {(r["region"], r["rule_id"]): int(r["count"]) for r in rows}
    counts = dict(found)
    spent: list[str | None] = []
    for rule in rules:
        at_breaker = (rule.region, BREAKER_RULE)
        if counts[at_breaker] >= breaker:
            _saw_spent((id(database), day, rule.region, BREAKER_RULE, kind, breaker), "circuit breaker")
            spent.append("circuit breaker")
            continue
        cap = rule.daily_action_cap
        if cap is not None:
            at_cap = (rule.region, rule.rule_id)
            if counts[at_cap] >= cap:
                _saw_spent((id(database), day, rule.region, rule.rule_id, kind, cap), "daily cap")
                spent.append("daily cap")
                continue
            counts[at_cap] += 1
        counts[at_breaker] += 1
        spent.append(None)
    written = [g for g in groups if counts[g] != found[g] or counts[g] == 0]
    if written:
        await conn.execute(
            _TALLIES_SET, day, [g[0] for g in written], [g[1] for g in written], [counts[g] for g in written], kind
        )
    return spent


async def record_hits(pool: asyncpg.Pool, hits: Sequence[HitRecord], now: datetime) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            _HITS,
            [uuid.uuid4() for _ in hits],
            [h.rule.rule_id for h in hits],
            [h.rule.version for h in hits],
            [h.rule.region for h in hits],
            [h.mode for h in hits],
            [h.event_id for h in hits],
            [h.occurred_at for h in hits],
            [h.subject[0] if h.subject else None for h in hits],
            [h.subject[1] if h.subject else None for h in hits],
            [orjson.dumps([a.as_dict() for a in h.actions]).decode() for h in hits],
            now,
        )
