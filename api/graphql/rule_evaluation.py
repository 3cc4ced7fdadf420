"""Running the rules on what a mutation accepted, after its commit: ``submitEvents``' events, ``submitSignal``'s
scores, and (``evaluate_reports``) the reports of ``submitReport``/``submitReports``. A failure here is logged and
leaves what was stored as it is; the evaluation is what is lost."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from api.graphql.context import Context
from domain.report import Report
from domain.services.events import Accepted
from domain.services.intake_events import report_events
from domain.services.rule_runs import HitRecord, run_rules
from persistence.counters import counter_store
from persistence.rule_ports import PostgresRunPorts
from persistence.rule_runtime import cache_for, platform_ids

log = logging.getLogger("vigil.rules")


async def evaluate(context: Context, accepted: Sequence[Accepted]) -> Counter[uuid.UUID]:
    """How many rules each event hit."""
    return Counter(h.event_id for h in await evaluate_hits(context, accepted))


async def evaluate_hits(context: Context, accepted: Sequence[Accepted]) -> list[HitRecord]:
    """The hits, with what became of each action (``submitSignal`` reports them per score)."""
    if not accepted or context.pool is None:
        return []
    try:
        loaded = await cache_for(context.pool).get()
        store = counter_store(context.pool, context.settings.redis_url)
        ports = PostgresRunPorts(context.pool, context.sessions, store, request_id=context.request_id or None)
        summary = await run_rules(loaded, accepted, ports, datetime.now(UTC))
    except Exception:
        log.exception("rules could not run on %d accepted events", len(accepted))
        return []
    return summary.hits


async def evaluate_reports(context: Context, reports: Sequence[Report], since: datetime) -> None:
    """Run the rules on the reports a request filed (created since it began: a retry's earlier report is not
    evaluated again). Regions without active rules cost nothing: the rule sets are in memory."""
    fresh = [r for r in reports if r.created_at >= since]
    if not fresh or context.pool is None:
        return
    try:
        loaded = await cache_for(context.pool).get()
        fresh = [r for r in fresh if r.region.value in loaded.rulesets]
        if not fresh:
            return
        subjects = [(r.subject_kind.value, r.subject_id) for r in fresh]
        ids, codes = await platform_ids(context.pool, subjects, [r.policy_id for r in fresh])
    except Exception:
        log.exception("rules could not run on %d reports", len(fresh))
        return
    await evaluate(context, report_events(fresh, ids, codes))
