"""What a rule's versions did over a period, read set-based from ``rule_hits`` and what people did since: hits,
the audit sample and its reviews, the (biased) judgement of later human decisions, decisions overturned on appeal,
human reviews the rule created and those it saved. Also the reviews of sampled hits, per-rule snoozes and the
hit-rate alarms' reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from domain.errors import DomainError
from domain.rule_quality import DEFAULT_SAMPLE_BP
from persistence.fast.sql import json_column
from persistence.tables.backtests import rule_audit_rates, rule_hit_reviews, rule_snoozes
from persistence.uow import RecordKind, SqlUnitOfWork, Subject

BUCKET_SQL: Final = (
    "((('x' || encode(substring(sha256(convert_to({0}::text, 'UTF8')), 1, 4), 'hex'))::bit(32))::bigint % 10000)"
)
"""``domain.qa.sample_bucket`` in SQL over a uuid expression."""

RATE_SQL: Final = (
    "coalesce((SELECT r.sample_bp FROM rule_audit_rates r WHERE r.rule_id = {0} AND r.from_version <= {1} "  # noqa: S608
    f"ORDER BY r.from_version DESC LIMIT 1), {DEFAULT_SAMPLE_BP})"
)
"""A version's audit rate: the latest one set at or below it, else the default."""

SAMPLED_SQL: Final = BUCKET_SQL.format("h.id") + " < " + RATE_SQL.format("h.rule_id", "h.rule_version")

_ENQUEUED = """jsonb_path_exists(h.actions, '$[*] ? (@.outcome == "WITHHELD" && exists(@.case_id))')"""
"""A LIVE action withheld past a daily cap or circuit breaker and enqueued for a person (its hit names the case)."""
_TAKEN_REVIEW = (
    """jsonb_path_exists(h.actions, '$[*] ? (@.outcome == "TAKEN" && (@.action == "OPEN_CASE" || """
    """@.action == "HOLD"))') OR jsonb_path_exists(h.actions, '$[*] ? (@.action == "DECIDE" && """
    """@.outcome == "WITHHELD" && @.reason starts with "left to a human")') OR """ + _ENQUEUED
)
_SAVED = """jsonb_path_exists(h.actions, '$[*] ? (@.action == "DECIDE" && @.outcome == "TAKEN")')"""

_HITS = f"""
SELECT h.rule_version,
       count(*) AS hits,
       count(*) FILTER (WHERE h.mode = 'LIVE') AS live,
       count(*) FILTER (WHERE {SAMPLED_SQL}) AS sampled,
       count(v.hit_id) AS reviewed,
       count(v.hit_id) FILTER (WHERE v.correct) AS confirmed,
       count(*) FILTER (WHERE h.mode = 'LIVE' AND ({_TAKEN_REVIEW})) AS reviews_created,
       count(*) FILTER (WHERE h.mode = 'LIVE' AND {_SAVED}) AS reviews_saved,
       count(*) FILTER (WHERE h.mode = 'LIVE' AND {_ENQUEUED}) AS enqueued,
       max({RATE_SQL.format("h.rule_id", "h.rule_version")}) AS sample_bp
FROM rule_hits h LEFT JOIN rule_hit_reviews v ON v.hit_id = h.id
WHERE h.rule_id = $1 AND h.created_at >= $2 AND h.created_at < $3
GROUP BY h.rule_version
"""  # noqa: S608 (constants only)

SUBJECTS_SQL: Final = """
SELECT s.key, s.rule_version, s.at, x.id AS subject_uuid, upper(s.subject_kind) AS kind
FROM ({source}) s
JOIN LATERAL (
  SELECT c.id FROM contents c WHERE s.subject_kind = 'content' AND c.region = s.region AND c.external_id = s.subject_id
  UNION ALL
  SELECT a.id FROM accounts a WHERE s.subject_kind = 'account' AND a.region = s.region AND a.external_id = s.subject_id
  UNION ALL
  SELECT d.id FROM ads d WHERE s.subject_kind = 'ad' AND d.region = s.region AND d.external_id = s.subject_id
) x ON true
"""
"""Hits (``source``: key, rule_version, at, region, subject_kind, subject_id) with their subject's record id."""

JUDGED_SQL: Final = (
    """
SELECT j.rule_version, count(DISTINCT j.key) AS decided,
       count(DISTINCT j.key) FILTER (WHERE d.verdict = 'VIOLATING' AND d.overturned_at IS NULL) AS confirmed
FROM ("""
    + SUBJECTS_SQL
    + """) j
JOIN decisions d ON d.subject_id = j.subject_uuid AND d.subject_kind = j.kind
 AND NOT d.automated AND d.decider_kind <> 'AUTOMATION' AND ({since})
GROUP BY j.rule_version
"""
)
"""Per version: hits whose subject a person decided (``since``: a condition on ``d`` and ``j.at``), and how many
of those decisions stand VIOLATING."""

_LIVE_HITS = """
SELECT h.id AS key, h.rule_version, h.event_occurred_at AS at, h.region, h.subject_kind, h.subject_id
FROM rule_hits h WHERE h.rule_id = $1 AND h.created_at >= $2 AND h.created_at < $3 AND h.subject_id IS NOT NULL
"""

_OVERTURNED = """
SELECT split_part(d.decider_id, ':v', 2)::int AS rule_version, count(*) AS overturned
FROM appeals a JOIN decisions d ON d.id = a.decision_id
WHERE d.decider_id LIKE $1 AND a.state = 'OVERTURNED' AND a.decided_at >= $2 AND a.decided_at < $3
GROUP BY 1
"""


@dataclass(frozen=True)
class VersionStats:
    version: int
    sample_bp: int
    hits: int = 0
    live_hits: int = 0
    sampled: int = 0
    reviewed: int = 0
    confirmed: int = 0
    decided: int = 0
    decided_violating: int = 0
    overturned: int = 0
    reviews_created: int = 0
    reviews_saved: int = 0
    enqueued: int = 0


async def version_stats(pool: asyncpg.Pool, rule_id: uuid.UUID, start: datetime, end: datetime) -> list[VersionStats]:
    """Every version of the rule with hits (or overturned decisions) in [start, end), newest first."""
    async with pool.acquire() as conn:
        hits = await conn.fetch(_HITS, rule_id, start, end)
        judged = await conn.fetch(
            JUDGED_SQL.format(source=_LIVE_HITS, since="d.decided_at >= j.at"), rule_id, start, end
        )
        overturned = await conn.fetch(_OVERTURNED, f"rule:{rule_id}:v%", start, end)
        rates = await conn.fetch(
            "SELECT from_version, sample_bp FROM rule_audit_rates WHERE rule_id = $1 ORDER BY from_version", rule_id
        )
    rows: dict[int, dict[str, Any]] = {}
    for r in hits:
        rows[r["rule_version"]] = {
            "hits": r["hits"],
            "live_hits": r["live"],
            "sampled": r["sampled"],
            "reviewed": r["reviewed"],
            "confirmed": r["confirmed"],
            "reviews_created": r["reviews_created"],
            "reviews_saved": r["reviews_saved"],
            "enqueued": r["enqueued"],
        }
    for r in judged:
        rows.setdefault(r["rule_version"], {}).update(decided=r["decided"], decided_violating=r["confirmed"])
    for r in overturned:
        rows.setdefault(r["rule_version"], {})["overturned"] = r["overturned"]

    def rate(version: int) -> int:
        applicable = [r["sample_bp"] for r in rates if r["from_version"] <= version]
        return applicable[-1] if applicable else DEFAULT_SAMPLE_BP

    return [VersionStats(version=v, sample_bp=rate(v), **rows[v]) for v in sorted(rows, reverse=True)]


async def sample_rate(pool: asyncpg.Pool, rule_id: uuid.UUID, version: int) -> int:
    async with pool.acquire() as conn:
        value = await conn.fetchval(f"SELECT {RATE_SQL.format('$1::uuid', '$2::int')}", rule_id, version)
    return int(value)


_QUEUE = f"""
SELECT x.* FROM rules r CROSS JOIN LATERAL (
  SELECT h.id, h.rule_id, h.rule_version, h.region, h.mode, h.event_id, h.event_occurred_at, h.subject_kind,
         h.subject_id, h.actions, h.created_at
  FROM rule_hits h
  WHERE h.rule_id = r.id
    AND ($3::timestamptz IS NULL OR (h.created_at, h.id) > ($3, $4::uuid))
    AND NOT EXISTS (SELECT 1 FROM rule_hit_reviews v WHERE v.hit_id = h.id)
    AND {SAMPLED_SQL}
  ORDER BY h.created_at, h.id
  LIMIT $5
) x
WHERE r.region = ANY($1::text[]) AND ($2::uuid IS NULL OR r.id = $2)
ORDER BY x.created_at, x.id
LIMIT $5
"""  # noqa: S608 (constants only)
"""Per rule of the regions, its oldest sampled hits not reviewed (by its (rule_id, created_at, id) index); merged."""


async def audit_queue(
    pool: asyncpg.Pool,
    regions: list[str],
    rule_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Sampled hits nobody reviewed yet, oldest first, in the given regions."""
    at, hit_id = after if after is not None else (None, None)
    async with pool.acquire() as conn:
        return list(await conn.fetch(_QUEUE, regions, rule_id, at, hit_id, limit))


_FOR_REVIEW = f"""
SELECT h.id, h.rule_id, h.rule_version, h.region, h.subject_kind, h.subject_id, ({SAMPLED_SQL}) AS sampled,
       EXISTS (SELECT 1 FROM rule_hit_reviews v WHERE v.hit_id = h.id) AS reviewed
FROM rule_hits h WHERE h.id = :id FOR UPDATE OF h
"""  # noqa: S608 (constants only)


_HOURLY = """
SELECT r.id AS rule_id, r.current_version AS rule_version, r.region, c.last_hour, c.before
FROM rules r CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE h.created_at >= $1) AS last_hour, count(*) FILTER (WHERE h.created_at < $1) AS before
  FROM rule_hits h
  WHERE h.rule_id = r.id AND h.rule_version = r.current_version AND h.created_at >= $2 AND h.created_at < $3
) c
WHERE r.state IN ('SHADOW', 'LIVE') AND c.last_hour > 0
"""


@dataclass(frozen=True)
class HourlyRate:
    rule_id: uuid.UUID
    version: int
    region: str
    last_hour: int
    baseline_per_hour: float


async def hourly_rates(pool: asyncpg.Pool, hour: datetime, baseline_hours: int) -> list[HourlyRate]:
    """Each current rule version's hits in the hour starting at ``hour`` and its average per hour over the
    ``baseline_hours`` before (over the hours the version existed, at least one)."""
    start = hour - timedelta(hours=baseline_hours)
    end = hour + timedelta(hours=1)
    async with pool.acquire() as conn:
        rows = await conn.fetch(_HOURLY, hour, start, end)
        born = {
            r["rule_id"]: r["created_at"]
            for r in await conn.fetch(
                "SELECT v.rule_id, v.created_at FROM rule_versions v JOIN rules r ON r.id = v.rule_id "
                "AND r.current_version = v.number WHERE v.rule_id = ANY($1::uuid[])",
                [r["rule_id"] for r in rows],
            )
        }
    rates = []
    for r in rows:
        since = max(start, born.get(r["rule_id"], start))
        hours = max(1.0, (hour - since).total_seconds() / 3600)
        rates.append(HourlyRate(r["rule_id"], r["rule_version"], r["region"], r["last_hour"], r["before"] / hours))
    return rates


# -- writes (in the caller's unit of work, audited there) -------------------------------------------------------
REVIEW = RecordKind("RuleHit")
AUDIT_RATE = RecordKind("Rule")
SNOOZE = RecordKind("RuleSnooze")


async def record_review(
    uow: SqlUnitOfWork,
    hit_id: uuid.UUID,
    *,
    correct: bool,
    notes: str | None,
    snooze: timedelta | None,
    regions: frozenset[str] | None,
) -> tuple[str, datetime | None]:
    """Review a sampled hit once (the hit's region must be among ``regions``); a hit judged wrong may snooze its
    subject for this rule. The hit's region, and the snooze's end if any."""
    session, now = uow.session, uow.clock.now()
    row = (await session.execute(sa.text(_FOR_REVIEW), {"id": hit_id})).mappings().first()
    if row is None or (regions is not None and row["region"] not in regions):
        raise DomainError.not_found("no such rule hit", "hitId")
    if not row["sampled"]:
        raise DomainError.invalid_state("this hit is not in its rule version's audit sample", "hitId")
    if row["reviewed"]:
        raise DomainError.conflict("this hit was reviewed already", "hitId")
    if snooze is not None and (correct or row["subject_id"] is None):
        raise DomainError.invalid_input("only a hit judged wrong, on a subject, snoozes it", "snoozeDays")
    values = {
        "hit_id": hit_id,
        "rule_id": row["rule_id"],
        "rule_version": row["rule_version"],
        "region": row["region"],
        "correct": correct,
        "notes": notes,
        "reviewer_id": uow.audit.actor_id,
        "reviewed_at": now,
    }
    await session.execute(sa.insert(rule_hit_reviews).values(values))
    uow.record(REVIEW, Subject(hit_id, row["region"]), action="reviewRuleHit", after={"correct": correct})
    until = None
    if snooze is not None:
        until = now + snooze
        key = {
            "rule_id": row["rule_id"],
            "region": row["region"],
            "entity_kind": row["subject_kind"],
            "entity_id": row["subject_id"],
        }
        stmt = insert(rule_snoozes).values(**key, until=until, author_id=uow.audit.actor_id, created_at=now)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=list(key), set_={"until": until, "author_id": uow.audit.actor_id, "created_at": now}
            )
        )
        uow.record(
            SNOOZE,
            Subject(row["rule_id"], row["region"]),
            action="snoozeRuleForEntity",
            after={"entity_kind": row["subject_kind"], "until": until.isoformat(), "hit_id": str(hit_id)},
        )
    return row["region"], until


async def set_audit_rate(uow: SqlUnitOfWork, rule_id: uuid.UUID, region: str, version: int, sample_bp: int) -> None:
    """The rule's audit rate from ``version`` on (replacing one set for that version)."""
    now = uow.clock.now()
    stmt = insert(rule_audit_rates).values(
        rule_id=rule_id, from_version=version, sample_bp=sample_bp, author_id=uow.audit.actor_id, created_at=now
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["rule_id", "from_version"],
            set_={"sample_bp": sample_bp, "author_id": uow.audit.actor_id, "created_at": now},
        )
    )
    uow.record(
        AUDIT_RATE,
        Subject(rule_id, region),
        action="setRuleAuditRate",
        after={"from_version": version, "bp": sample_bp},
    )


_RULE_SNOOZED = """
SELECT s.rule_id, s.region, s.entity_kind, s.entity_id FROM rule_snoozes s
JOIN ROWS FROM (json_array_elements_text($1::json), json_array_elements_text($2::json),
               json_array_elements_text($3::json)) AS w(region, kind, id)
  ON s.region = w.region AND s.entity_kind = w.kind AND s.entity_id = w.id
WHERE s.until > $4
"""


async def rule_snoozed(
    pool: asyncpg.Pool, wanted: Iterable[tuple[str, str, str]], now: datetime
) -> set[tuple[str, ...]]:
    """(rule id, region, kind, id) of the wanted entities some rule is snoozed for."""
    rows = sorted(set(wanted))
    async with pool.acquire() as conn:
        columns = [json_column([r[i] for r in rows]) for i in range(3)]  # see json_column: no per-value encoding
        found = await conn.fetch(_RULE_SNOOZED, *columns, now)
    return {(str(r["rule_id"]), r["region"], r["entity_kind"], r["entity_id"]) for r in found}


# -- the scrape-time family: every active rule's current version, set-based (three statements) -----------------
# Each driven from the active rules, one index range of ``rule_hits`` (rule_id, created_at) per rule.
_DAY_HITS = """
SELECT r.id AS rule_id, c.live, c.shadow FROM rules r CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE h.mode = 'LIVE') AS live, count(*) FILTER (WHERE h.mode = 'SHADOW') AS shadow
  FROM rule_hits h WHERE h.rule_id = r.id AND h.rule_version = r.current_version AND h.created_at >= $1
) c
WHERE r.state IN ('SHADOW', 'LIVE')
"""
_REVIEWS = """
SELECT v.rule_id, count(*) AS reviewed, count(*) FILTER (WHERE v.correct) AS confirmed
FROM rule_hit_reviews v JOIN rules r ON r.id = v.rule_id AND r.current_version = v.rule_version
JOIN rule_hits h ON h.id = v.hit_id
WHERE r.state IN ('SHADOW', 'LIVE') AND h.created_at >= $1
GROUP BY 1
"""
_CURRENT_HITS = """
SELECT h.id AS key, r.id::text AS rule_version, h.event_occurred_at AS at, h.region, h.subject_kind, h.subject_id
FROM rules r JOIN rule_hits h ON h.rule_id = r.id AND h.rule_version = r.current_version AND h.created_at >= $1
WHERE r.state IN ('SHADOW', 'LIVE') AND h.subject_id IS NOT NULL
"""
_CURRENT_JUDGED = JUDGED_SQL.format(source=_CURRENT_HITS, since="d.decided_at >= j.at")


@dataclass
class CurrentQuality:
    rule_id: uuid.UUID
    region: str
    version: int
    live_hits_1d: int = 0
    shadow_hits_1d: int = 0
    reviewed: int = 0
    confirmed: int = 0
    decided: int = 0
    decided_violating: int = 0


async def current_quality(
    pool: asyncpg.Pool, day_since: datetime, since: datetime, biased_since: datetime
) -> list[CurrentQuality]:
    """Every SHADOW or LIVE rule's current version: its hits since ``day_since``, its reviewed sample since
    ``since`` and its hits later decided by a person since ``biased_since`` (the costly one: a shorter span)."""
    async with pool.acquire() as conn:
        rules = await conn.fetch("SELECT id, region, current_version FROM rules WHERE state IN ('SHADOW', 'LIVE')")
        day = await conn.fetch(_DAY_HITS, day_since)
        reviews = await conn.fetch(_REVIEWS, since)
        judged = await conn.fetch(_CURRENT_JUDGED, biased_since)
    found = {r["id"]: CurrentQuality(r["id"], r["region"], r["current_version"]) for r in rules}
    for row in day:
        if (q := found.get(row["rule_id"])) is not None:
            q.live_hits_1d, q.shadow_hits_1d = row["live"], row["shadow"]
    for row in reviews:
        if (q := found.get(row["rule_id"])) is not None:
            q.reviewed, q.confirmed = row["reviewed"], row["confirmed"]
    for row in judged:
        if (q := found.get(uuid.UUID(row["rule_version"]))) is not None:
            q.decided, q.decided_violating = row["decided"], row["confirmed"]
    return sorted(found.values(), key=lambda q: str(q.rule_id))
