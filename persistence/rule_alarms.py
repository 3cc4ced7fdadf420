"""Hit-rate alarms: a rule version whose hits over the last hour jump against its own hourly baseline (the 7 days
before) gets one alarm per rule and clock hour: a ``rule_alarms`` row and a ``rule.alarm`` outbox event (partners'
webhooks hear it), written together with their audit record. The backtest runner's watcher checks every 15 s;
``vigil_rule_hit_rate_alarms_1d`` counts them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
import orjson

from domain.outbox.events import EVENT_TYPES
from domain.rule_quality import BASELINE_HOURS, jumped
from persistence.audit import AuditRecord
from persistence.fast.sql import audit_arrays, insert_cte
from persistence.rule_stats import hourly_rates
from persistence.tables.audit import audit_events

ALARM_TYPE = EVENT_TYPES["rule.alarm"].name
ACTOR = "system:rule-alarms"

_INSERT = """
INSERT INTO rule_alarms (id, rule_id, rule_version, region, hour, hits, baseline, raised_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (rule_id, hour) DO NOTHING RETURNING id
"""
_OUTBOX = """
INSERT INTO outbox_events (id, type, schema_version, region, subject_kind, subject_id, occurred_at, payload)
VALUES ($1, $2, 1, $3, 'rule', $4, $5, $6::jsonb)
"""
_AUDIT_SQL, _ = insert_cte(audit_events, 1)


async def raise_alarms(pool: asyncpg.Pool, now: datetime) -> list[uuid.UUID]:
    """Alarms for the rules whose last hour jumped; the new alarms' ids (none twice in one clock hour)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    raised: list[uuid.UUID] = []
    for rate in await hourly_rates(pool, now - timedelta(hours=1), BASELINE_HOURS):
        if not jumped(rate.last_hour, rate.baseline_per_hour):
            continue
        alarm_id = uuid.uuid4()
        payload = {
            "ruleId": str(rate.rule_id),
            "ruleVersion": rate.version,
            "hitsLastHour": rate.last_hour,
            "baselinePerHour": round(rate.baseline_per_hour, 3),
            "hour": hour.isoformat(),
        }
        body = orjson.dumps(payload).decode()
        async with pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                _INSERT,
                alarm_id,
                rate.rule_id,
                rate.version,
                rate.region,
                hour,
                rate.last_hour,
                rate.baseline_per_hour,
                now,
            )
            if inserted is None:
                continue
            await conn.execute(_OUTBOX, uuid.uuid4(), ALARM_TYPE, rate.region, rate.rule_id, now, body)
            record = AuditRecord(
                occurred_at=now,
                actor_kind="SYSTEM",
                actor_id=ACTOR,
                action="raiseRuleAlarm",
                subject_kind="Rule",
                subject_id=str(rate.rule_id),
                region=rate.region,
                after=payload,
            )
            await conn.fetch(_AUDIT_SQL, *audit_arrays([record]))
        raised.append(alarm_id)
    return raised
