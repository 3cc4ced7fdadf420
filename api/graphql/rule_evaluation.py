"""Running the rules on what a mutation accepted, after its commit: ``submitEvents``' events, ``submitSignal``'s
scores, and (``evaluate_reports``) the reports of ``submitReport``/``submitReports``.

At least once: what was accepted is noted in the rules' backlog (``persistence.rule_backlog``) before the rules
run, and the note is deleted once they ran. ``submitEvents`` writes it in its append statement, ``submitSignal``
in its unit of work: with what they accepted, in one transaction. Reports are filed by the fast intake statement,
whose events (the subjects' platform ids, the policies' codes) are read after its commit: their note is written
then, one statement before the rules run; a process that dies between the intake's commit and that statement is
the one window where reports' events can miss the rules. The evaluation runs shielded from the request's timeout
(``api.services.rule_backlog.run_shielded``): a request that times out returns, its evaluation finishes and the
process's stop awaits it. An evaluation that fails, or never finishes, leaves the note, and the sweeper
(``BacklogRunner``) runs the rules on those events again after ``VIGIL_RULES_BACKLOG_GRACE`` seconds: a second
evaluation records no second hit and takes, counts or enqueues no action twice.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from api.graphql.context import Context
from api.services.rule_backlog import run_shielded
from domain.report import Report
from domain.services.events import Accepted
from domain.services.intake_events import report_events
from domain.services.rule_runs import HitRecord
from persistence import rule_backlog
from persistence.rule_runtime import cache_for, platform_ids
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("vigil.rules")


async def rules_in(context: Context, regions: Collection[str]) -> bool:
    """Whether any of ``regions`` has an active rule (the rule sets in memory): a batch of other regions needs no
    backlog row."""
    if context.pool is None or not regions:
        return False
    loaded = await cache_for(context.pool).get()
    return any(r in loaded.rulesets for r in regions)


async def backlog_in(
    context: Context, uow: SqlUnitOfWork, source: str, accepted: Sequence[Accepted]
) -> uuid.UUID | None:
    """The backlog row for ``accepted``, written in the caller's unit of work (None: no rule could hit them)."""
    if not await rules_in(context, {a.event.region for a in accepted}):
        return None
    return await rule_backlog.add_in_session(
        uow.session, source, accepted, datetime.now(UTC), context.request_id or None
    )


async def evaluate(
    context: Context, accepted: Sequence[Accepted], *, backlog_id: uuid.UUID | None = None
) -> Counter[uuid.UUID]:
    """How many rules each event hit."""
    return Counter(h.event_id for h in await evaluate_hits(context, accepted, backlog_id=backlog_id))


async def evaluate_hits(
    context: Context, accepted: Sequence[Accepted], *, backlog_id: uuid.UUID | None = None
) -> list[HitRecord]:
    """The hits, with what became of each action (``submitSignal`` reports them per score); ``backlog_id``: the row
    noting these events, deleted once the rules ran."""
    if not accepted or context.pool is None:
        return []
    return await run_shielded(_evaluate(context, accepted, backlog_id))


async def _evaluate(context: Context, accepted: Sequence[Accepted], backlog_id: uuid.UUID | None) -> list[HitRecord]:
    assert context.pool is not None
    try:
        summary = await rule_backlog.evaluate(
            context.pool,
            context.sessions,
            context.settings.redis_url,
            accepted,
            datetime.now(UTC),
            request_id=context.request_id or None,
        )
    except Exception:
        log.exception("rules could not run on %d accepted events; the backlog keeps them", len(accepted))
        return []
    if backlog_id is not None:
        try:
            await rule_backlog.done(context.pool, backlog_id)
        except Exception:  # the sweeper evaluates them again: harmless
            log.exception("the backlog row %s could not be deleted", backlog_id)
    return summary.hits


async def evaluate_reports(context: Context, reports: Sequence[Report], since: datetime) -> None:
    """Run the rules on the reports a request filed (created since it began: a retry's earlier report is not
    evaluated again). Regions without active rules cost nothing: the rule sets are in memory."""
    fresh = [r for r in reports if r.created_at >= since]
    if not fresh or context.pool is None:
        return
    await run_shielded(_evaluate_reports(context, fresh))


async def _evaluate_reports(context: Context, fresh: Sequence[Report]) -> None:
    assert context.pool is not None
    try:
        loaded = await cache_for(context.pool).get()
        fresh = [r for r in fresh if r.region.value in loaded.rulesets]
        if not fresh:
            return
        subjects = [(r.subject_kind.value, r.subject_id) for r in fresh]
        ids, codes = await platform_ids(context.pool, subjects, [r.policy_id for r in fresh])
        events = report_events(fresh, ids, codes)
        backlog_id = await rule_backlog.add(
            context.pool, "submitReports", events, datetime.now(UTC), context.request_id or None
        )
    except Exception:
        log.exception("rules could not run on %d reports", len(fresh))
        return
    await _evaluate(context, events, backlog_id)
