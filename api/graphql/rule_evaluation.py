"""Running the rules on what a mutation accepted, after its commit: ``submitEvents``' events, ``submitSignal``'s
scores, and (``ReportRules``) the reports of ``submitReport``/``submitReports``.

At least once: what was accepted is noted in the rules' backlog (``persistence.rule_backlog``) in the transaction
that accepts it, and the note is deleted once the rules ran. ``submitEvents`` writes it in its append statement,
``submitSignal`` in its unit of work, report intake in its one write statement (the reports, their audit events
and the note together: ``IntakeUnitOfWork.note_for_rules``). Which regions have rules is read from the rule sets
in memory before the intake's unit of work opens: a batch in regions without rules reads and writes what it did
without rules, and its evaluation costs no task and no statement. The evaluation runs shielded from the request's
timeout (``api.services.rule_backlog.run_shielded``): a request that times out returns, its evaluation finishes
and the process's stop awaits it. An evaluation that fails, or never finishes, leaves the note, and the sweeper
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
from domain.ports import UnitOfWork
from domain.region import Region
from domain.report import Report
from domain.services.events import Accepted
from domain.services.rule_runs import HitRecord
from persistence import rule_backlog
from persistence.rule_backlog import Note
from persistence.rule_runtime import cache_for
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("vigil.rules")


ALL_REGIONS = frozenset(r.value for r in Region)


async def rule_regions(context: Context) -> frozenset[str]:
    """The regions with active rules (the rule sets in memory; their first load is the process's, not the
    request's). Every region, with the error logged, when they cannot be loaded: what is accepted is then noted
    for the rules as if every region had some, the evaluation after the commit fails the same way and leaves the
    note, and the sweeper evaluates it once the rule sets load. Nothing is accepted past the rules."""
    if context.pool is None:
        return frozenset()
    try:
        loaded = await cache_for(context.pool).get()
    except Exception:
        log.exception("the rule sets could not be loaded; noting what is accepted for the rules to run later")
        return ALL_REGIONS
    return frozenset(loaded.rulesets)


async def rules_in(context: Context, regions: Collection[str]) -> bool:
    """Whether any of ``regions`` has an active rule (the rule sets in memory): a batch of other regions needs no
    backlog row."""
    if not regions:
        return False
    return not (await rule_regions(context)).isdisjoint(regions)


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


class ReportRules:
    """The rules' side of a report intake request. ``await ReportRules.of(context)`` before the intake: the
    regions with rules, passed to its read set (``IntakeReads.rule_regions``). In each attempt's command,
    ``begin(uow)`` then ``note(uow, reports)`` after filing: the events of the reports it filed in those regions,
    noted in the unit of work's write. After the commit, ``evaluate()``: the rules on them, shielded, and the note
    deleted; nothing at all (no task, no statement) when none was noted."""

    def __init__(self, context: Context, regions: frozenset[str]) -> None:
        self.context = context
        self.regions = regions
        self._since: datetime | None = None
        self.noted: Note | None = None

    @classmethod
    async def of(cls, context: Context) -> ReportRules:
        return cls(context, await rule_regions(context))

    def begin(self, uow: UnitOfWork) -> None:
        """At the start of each attempt: forget what a failed one noted."""
        self._since = uow.clock.now()
        self.noted = None

    async def note(self, uow: UnitOfWork, reports: Sequence[Report]) -> None:
        """The events of the reports this attempt filed (a report an earlier request filed, returned again, is not
        one), written with the unit of work's commit."""
        if not self.regions:
            return
        if self._since is None:
            raise RuntimeError("ReportRules.begin(uow) starts each attempt")
        self.noted = await rule_backlog.note_reports(uow, reports, self.regions, self._since)

    async def evaluate(self) -> None:
        """After the commit."""
        noted = self.noted
        if noted is None or self.context.pool is None:
            return
        await run_shielded(_evaluate(self.context, noted.accepted, noted.id))
