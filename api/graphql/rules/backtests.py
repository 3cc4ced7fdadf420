"""Backtests and retroaction: ``backtestRule`` runs a rule version (any state) over the stored events of a period
as a job (``api.services.backtest_jobs``), ``ruleBacktest(id)`` follows it (progress, hits, precision against past human
decisions, a sample of hits) and ``cancelRuleBacktest`` stops it (``api.graphql.rules.retroaction`` applies one).

Backtests need rules:read in the rule's region (the sample of hits also cases:read, as ``ruleHits``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import strawberry

from api.graphql.context import Context, Info
from api.graphql.ids import parse_id, to_global_id
from api.graphql.permissions import requires
from api.graphql.rules.queries import load_rule
from api.graphql.rules.stats import PeriodInput, PrecisionFigure, _figure, period_of
from api.graphql.runner import audit_context, failed
from api.graphql.shared.common import MutationError
from authz.permissions import Permission
from domain.errors import DomainError
from domain.rule_quality import Precision
from domain.services.backtests import SAMPLE, check_period
from persistence import backtests as store
from persistence.retry import retrying
from persistence.uow import SqlUnitOfWork

if TYPE_CHECKING:
    pass


@strawberry.type(description="An event the backtested version matched, and the actions it would have taken.")
class RuleBacktestHit:
    event_id: strawberry.ID
    occurred_at: datetime
    subject_kind: str | None
    subject_id: str | None
    actions: list[str]


@strawberry.type(description="A rule version run over the stored events of a period (`backtestRule`).")
class RuleBacktest:
    row: strawberry.Private[Any]
    may_see_hits: strawberry.Private[bool]
    id: strawberry.ID
    rule_id: strawberry.ID
    rule_version: int
    state: str = strawberry.field(description="RUNNING, COMPLETED, CANCELLED or FAILED.")
    period_start: datetime
    period_end: datetime
    scanned: int = strawberry.field(description="Events read so far (every event of the region in the period).")
    hits: int
    failures: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    retroacted_at: datetime | None = strawberry.field(description="When `retroactRule` applied it, if it did.")

    @strawberry.field(description="Share of the period read so far (0 to 1).")
    def progress(self) -> float:
        r = self.row
        if r["state"] == "COMPLETED":
            return 1.0
        if r["cursor_at"] is None:
            return 0.0
        span = (r["period_end"] - r["period_start"]).total_seconds()
        done: float = (r["cursor_at"] - r["period_start"]).total_seconds() / span
        return max(0.0, min(1.0, done))

    @strawberry.field(
        description="Precision against past human decisions on the matched subjects (once COMPLETED): biased "
        "toward what people happened to decide; null below the minimum support."
    )
    def precision(self) -> PrecisionFigure | None:
        if self.row["decided"] is None:
            return None
        return _figure(Precision.of(self.row["confirmed"], self.row["decided"]))

    @strawberry.field(description="The bulk job a retroactive run created (`retroactRule`), if any.")
    def retro_job_id(self) -> strawberry.ID | None:
        job = self.row["retro_job_id"]
        return None if job is None else strawberry.ID(to_global_id("BulkJob", job))

    @strawberry.field(description=f"Up to {SAMPLE} hits, chosen by hash; null without cases:read in the region.")
    async def sample(self, info: Info) -> list[RuleBacktestHit] | None:
        if not self.may_see_hits:
            return None
        rows = await store.sample_hits(pool_of(info.context), self.row["id"], SAMPLE)
        return [
            RuleBacktestHit(
                event_id=strawberry.ID(to_global_id("PlatformEvent", r["event_id"])),
                occurred_at=r["occurred_at"],
                subject_kind=r["subject_kind"],
                subject_id=r["subject_id"],
                actions=list(orjson.loads(r["actions"])),
            )
            for r in rows
        ]


def build_backtest(context: Context, row: Any) -> RuleBacktest:
    return RuleBacktest(
        row=row,
        may_see_hits=context.permissions.allows(Permission.CASES_READ, row["region"]),
        id=strawberry.ID(to_global_id("RuleBacktest", row["id"])),
        rule_id=strawberry.ID(to_global_id("Rule", row["rule_id"])),
        rule_version=row["rule_version"],
        state=row["state"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        scanned=row["scanned"],
        hits=row["hits"],
        failures=row["failures"],
        error=row["error"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        retroacted_at=row["retroacted_at"],
    )


def pool_of(context: Context) -> Any:
    if context.pool is None:
        raise RuntimeError("backtests need the app's connection pool")
    return context.pool


async def readable_backtest(context: Context, global_id: str, field: str = "id") -> Any:
    """The backtest's row if the caller may read rules in its region (NOT_FOUND otherwise)."""
    job_id = parse_id(global_id, "RuleBacktest", field=field)
    row = await store.get(pool_of(context), job_id)
    if row is None or not context.permissions.allows(Permission.RULES_READ, row["region"]):
        raise DomainError.not_found("no such backtest", field)
    return row


@strawberry.input(description="A version of a rule (default: its current one) over a period of at most 92 days.")
class BacktestRuleInput:
    rule_id: strawberry.ID
    version: int | None = None
    period: PeriodInput | None = strawberry.field(default=None, description="Default: the last 7 days.")


@strawberry.type
class BacktestRuleSuccess:
    backtest: RuleBacktest


@strawberry.input
class CancelRuleBacktestInput:
    id: strawberry.ID


BacktestRuleResult = Annotated[BacktestRuleSuccess | MutationError, strawberry.union("BacktestRuleResult")]


@strawberry.type
class BacktestQuery:
    @strawberry.field(
        extensions=requires(Permission.RULES_READ),
        description="A backtest: progress, hits, precision and a sample (null if you may not read its rule).",
    )
    async def rule_backtest(self, info: Info, id: strawberry.ID) -> RuleBacktest | None:
        try:
            return build_backtest(info.context, await readable_backtest(info.context, id))
        except DomainError:
            return None


@strawberry.type
class BacktestMutation:
    @strawberry.mutation(
        extensions=requires(Permission.RULES_BACKTEST),
        description="Run a rule version (any state) over the stored events of a period as a job; nothing is "
        "acted on. Follow it with `ruleBacktest(id)`.",
    )
    async def backtest_rule(self, info: Info, input: BacktestRuleInput) -> BacktestRuleResult:
        context = info.context
        runner = context.backtest_runner
        try:
            found = await load_rule(info, input.rule_id)
            if found is None:
                raise DomainError.not_found("no such rule", "ruleId")
            rule, current = found
            if not context.permissions.allows(Permission.RULES_BACKTEST, rule.region.value):
                raise DomainError.forbidden("you may not backtest rules in this region", "ruleId")
            version = input.version if input.version is not None else current.number
            if not 1 <= version <= current.number:
                raise DomainError.not_found("no such version of the rule", "version")
            now = datetime.now(UTC)
            start, end = period_of(input.period, now, default=store.DEFAULT_PERIOD)
            check_period(start, end, now)
            end = min(end, now)  # the past only: events arriving while it runs are not in it
            await store.compile_version(pool_of(context), rule.id, version)  # INVALID_STATE now, not in the job

            async def attempt(_n: int) -> uuid.UUID:
                async with SqlUnitOfWork(context.sessions, audit_context(context, "backtestRule")) as uow:
                    return await store.create(
                        uow,
                        rule_id=rule.id,
                        version=version,
                        region=rule.region.value,
                        start=start,
                        end=end,
                        principal_kind=context.principal.kind.value,
                        lease_owner=None if runner is None else runner.owner,
                    )

            job_id = await retrying(attempt, what="backtestRule")
        except DomainError as exc:
            return failed(context, exc)
        if runner is not None:
            runner.start(job_id)
        row = await store.get(pool_of(context), job_id)
        return BacktestRuleSuccess(backtest=build_backtest(context, row))

    @strawberry.mutation(
        extensions=requires(Permission.RULES_BACKTEST),
        description="Stop a RUNNING backtest (its hits so far stay).",
    )
    async def cancel_rule_backtest(self, info: Info, input: CancelRuleBacktestInput) -> BacktestRuleResult:
        context = info.context
        try:
            row = await readable_backtest(context, input.id)
            if not context.permissions.allows(Permission.RULES_BACKTEST, row["region"]):
                raise DomainError.forbidden("you may not cancel backtests in this region", "id")

            async def attempt(_n: int) -> None:
                async with SqlUnitOfWork(context.sessions, audit_context(context, "cancelRuleBacktest")) as uow:
                    await store.cancel(uow, row["id"])

            await retrying(attempt, what="cancelRuleBacktest")
        except DomainError as exc:
            return failed(context, exc)
        return BacktestRuleSuccess(backtest=build_backtest(context, await store.get(pool_of(context), row["id"])))
