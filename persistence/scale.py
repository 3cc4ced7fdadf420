"""Synthetic data at scale for the growth benchmarks: ``vigil seed --scale N`` writes N cases with their accounts,
content, reports, decisions, enforcement actions and strikes, set-based (``INSERT ... SELECT`` over
``generate_series``), in chunks, in a few minutes for a million cases.

Shape, per case ``i``: one piece of content; one creator account per five cases; the four regions in turn (by
account); two reports under two content policies; every third case DECIDED as VIOLATING with a REMOVE_CONTENT
action and a strike, the others OPEN in their region's ``scale`` queue; creation times one second apart, newest
last. Ids are ``md5(kind || i)``, so a second run with the same N adds nothing and a larger N adds the rest.

These rows are benchmark fixtures, written below the domain: they carry no audit events (the audit trail
records what people and services did, and nobody did this). Keep them out of a production database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from domain.region import Region
from persistence.fast.sql import asyncpg_dsn

CHUNK = 20_000
REGIONS = "ARRAY[" + ",".join(f"'{r.value}'" for r in Region) + "]"  # the domain's regions, in their order

_QUEUES = (
    """
INSERT INTO queues (id, region, name, surface, policies, languages, roles, is_default, created_at, updated_at,
                    version, sla_urgent_hours, sla_high_hours, sla_medium_hours, sla_low_hours, qa_sample_bp)
SELECT md5('scale-queue' || r)::uuid, r, 'scale', 'CONTENT', '{}', '{}', '{moderator,senior_moderator}', false,
       $1, $1, 1, 4, 12, 24, 48, 0
FROM unnest("""
    + REGIONS
    + """) AS r
ON CONFLICT DO NOTHING
"""
)

# $1 first case, $2 last case (exclusive), $3 the time of case 0; $4 and $5 as ``_EXTRA`` says per statement.
_STATEMENTS = [
    """
INSERT INTO accounts (id, region, external_id, kind, handle, display_name, email, language, status, created_at,
                      updated_at, version)
SELECT md5('scale-account' || j)::uuid, ("""
    + REGIONS
    + """)[j % 4 + 1], 'scale-' || j, 'CREATOR',
       'creator' || j, 'Creator ' || j, 'creator' || j || '@example.test', 'en', 'ACTIVE',
       $3::timestamptz + j * 5 * interval '1 second', $3::timestamptz + j * 5 * interval '1 second', 1
FROM generate_series(($1 + 4) / 5, ($2 - 1) / 5) AS j
ON CONFLICT DO NOTHING
""",
    """
INSERT INTO contents (id, region, owner_account_id, external_id, kind, title, language, reach, visibility,
                      created_at, updated_at, version)
SELECT md5('scale-content' || i)::uuid, ("""
    + REGIONS
    + """)[(i / 5) % 4 + 1], md5('scale-account' || (i / 5))::uuid,
       'scale-' || i, 'VIDEO', 'Video ' || i, 'en', (i * 37) % 100000,
       CASE WHEN i % 3 = 0 THEN 'REMOVED' ELSE 'VISIBLE' END,
       $3::timestamptz + i * interval '1 second', $3::timestamptz + i * interval '1 second', 1
FROM generate_series($1, $2 - 1) AS i
ON CONFLICT DO NOTHING
""",
    """
INSERT INTO cases (id, region, subject_kind, subject_id, subject_account_id, surface, state, priority,
                   report_count, top_severity, top_source, queue_id, sla_due_at, decision_id, decided_at,
                   created_at, updated_at, version)
SELECT md5('scale-case' || i)::uuid, ("""
    + REGIONS
    + """)[(i / 5) % 4 + 1], 'CONTENT',
       md5('scale-content' || i)::uuid, md5('scale-account' || (i / 5))::uuid, 'CONTENT',
       CASE WHEN i % 3 = 0 THEN 'DECIDED' ELSE 'OPEN' END, (i * 7) % 100, 2, 'HIGH', 'USER',
       md5('scale-queue' || ("""
    + REGIONS
    + """)[(i / 5) % 4 + 1])::uuid,
       $3::timestamptz + i * interval '1 second' + interval '24 hours',
       CASE WHEN i % 3 = 0 THEN md5('scale-decision' || i)::uuid END,
       CASE WHEN i % 3 = 0 THEN $3::timestamptz + (i * interval '1 second') + interval '1 hour' END,
       $3::timestamptz + i * interval '1 second', $3::timestamptz + i * interval '1 second', 1
FROM generate_series($1, $2 - 1) AS i
ON CONFLICT DO NOTHING
""",
    """
INSERT INTO reports (id, region, subject_kind, subject_id, source, reporter_id, reporter_kind, policy_id, case_id,
                     created_at, updated_at, version)
SELECT md5('scale-report' || i || '-' || k)::uuid, ("""
    + REGIONS
    + """)[(i / 5) % 4 + 1], 'CONTENT',
       md5('scale-content' || i)::uuid, 'USER', 'scale-reporter-' || (i % 1000), 'TOKEN',
       CASE WHEN k = 0 THEN $4::uuid ELSE $5::uuid END, md5('scale-case' || i)::uuid,
       $3::timestamptz + i * interval '1 second' + k * interval '1 millisecond',
       $3::timestamptz + i * interval '1 second' + k * interval '1 millisecond', 1
FROM generate_series($1, $2 - 1) AS i, generate_series(0, 1) AS k
ON CONFLICT DO NOTHING
""",
    """
INSERT INTO decisions (id, region, case_id, subject_kind, subject_id, subject_account_id, verdict, policy_id,
                       policy_version_id, rationale, decider_id, decider_kind, decider_seniority, automated,
                       decided_at, created_at, updated_at, version)
SELECT md5('scale-decision' || i)::uuid, ("""
    + REGIONS
    + """)[(i / 5) % 4 + 1], md5('scale-case' || i)::uuid,
       'CONTENT', md5('scale-content' || i)::uuid, md5('scale-account' || (i / 5))::uuid, 'VIOLATING', $4::uuid,
       $5::uuid, 'Removed under the policy (synthetic).', 'scale-moderator', 'STAFF', 1, false,
       $3::timestamptz + (i * interval '1 second') + interval '1 hour',
       $3::timestamptz + (i * interval '1 second') + interval '1 hour',
       $3::timestamptz + (i * interval '1 second') + interval '1 hour', 1
FROM generate_series($1, $2 - 1) AS i WHERE i % 3 = 0
ON CONFLICT DO NOTHING
""",
    """
INSERT INTO strikes (id, region, account_id, policy_id, policy_version_id, decision_id, surface, severity, weight,
                     issued_at, expires_at, status, created_at, updated_at, version)
SELECT md5('scale-strike' || i)::uuid, ("""
    + REGIONS
    + """)[(i / 5) % 4 + 1], md5('scale-account' || (i / 5))::uuid,
       $4::uuid, $5::uuid, md5('scale-decision' || i)::uuid, 'CONTENT', 'HIGH', 1,
       $3::timestamptz + (i * interval '1 second') + interval '1 hour',
       $3::timestamptz + i * interval '1 second' + interval '91 days',
       'ACTIVE',
       $3::timestamptz + (i * interval '1 second') + interval '1 hour',
       $3::timestamptz + (i * interval '1 second') + interval '1 hour', 1
FROM generate_series($1, $2 - 1) AS i WHERE i % 3 = 0
ON CONFLICT DO NOTHING
""",
    """
INSERT INTO enforcement_actions (id, region, decision_id, kind, target_kind, target_id, starts_at, source,
                                 strike_id, created_at, updated_at, version)
SELECT md5('scale-action' || i)::uuid, ("""
    + REGIONS
    + """)[(i / 5) % 4 + 1], md5('scale-decision' || i)::uuid,
       'REMOVE_CONTENT', 'CONTENT', md5('scale-content' || i)::uuid,
       $3::timestamptz + (i * interval '1 second') + interval '1 hour', 'DECISION', md5('scale-strike' || i)::uuid,
       $3::timestamptz + (i * interval '1 second') + interval '1 hour',
       $3::timestamptz + (i * interval '1 second') + interval '1 hour', 1
FROM generate_series($1, $2 - 1) AS i WHERE i % 3 = 0
ON CONFLICT DO NOTHING
""",
]

# What $4 and $5 are in each of ``_STATEMENTS``.
_EXTRA: list[tuple[str, ...]] = [
    (),
    (),
    (),
    ("policy", "other_policy"),
    ("policy", "version"),
    ("policy", "version"),
    (),
]

_POLICIES = """
SELECT p.id, v.id AS version_id FROM policies p
JOIN policy_versions v ON v.policy_id = p.id AND v.number = p.current_version
WHERE p.surface = 'CONTENT' ORDER BY p.code LIMIT 2
"""


async def seed_scale(url: str, cases: int, progress: Callable[[int], None] | None = None) -> int:
    """Write cases ``0 .. cases-1`` (those missing) and what hangs off them; returns the number of cases asked
    for. Needs two CONTENT policies (the demo data has them)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        policies = await conn.fetch(_POLICIES)
        if len(policies) < 2:
            raise ValueError("seeding at scale needs two CONTENT policies: load the demo data first (vigil seed)")
        origin = datetime.now(UTC) - timedelta(seconds=cases + 3600)
        await conn.execute(_QUEUES, origin)
        values = {"policy": policies[0]["id"], "other_policy": policies[1]["id"], "version": policies[0]["version_id"]}
        for start in range(0, cases, CHUNK):
            end = min(cases, start + CHUNK)
            async with conn.transaction():
                for statement, extra in zip(_STATEMENTS, _EXTRA, strict=True):
                    await conn.execute(statement, start, end, origin, *(values[name] for name in extra))
            if progress is not None:
                progress(end - start)
        await conn.execute("ANALYZE accounts, contents, cases, reports, decisions, strikes, enforcement_actions")
    finally:
        await conn.close()
    return cases
