"""Measured quality of rules: ``ruleStats`` (per version and period: hits, the audit sample's precision with its
95% interval, the biased figure from later human decisions, appeals overturned, human reviews created and saved),
the audit queue of sampled hits (``ruleAuditQueue``, ``reviewRuleHit``, which may snooze the subject for the rule),
``setRuleAuditRate``, and the Prometheus family computed from the database at scrape time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
import strawberry
from prometheus_client.core import GaugeMetricFamily, Metric

from api.graphql.context import Info
from api.graphql.errors import BadRequest
from api.graphql.ids import parse_id
from api.graphql.permissions import requires
from api.graphql.rules.hits import RuleHit, _hit
from api.graphql.rules.queries import load_rule
from api.graphql.runner import audit_context, failed
from api.graphql.shared.common import Connection, MutationError, connection
from api.metrics import ScrapeSources, register_scrape_collector
from authz.permissions import Permission
from domain.errors import DomainError
from domain.qa import SAMPLE_BUCKETS
from domain.region import Region
from domain.rule_quality import MIN_SUPPORT, Precision, sample_bp_of, snooze_days
from persistence.pagination import Page, decode_cursor, encode_cursor
from persistence.retry import retrying
from persistence.rule_stats import (
    VersionStats,
    audit_queue,
    current_quality,
    record_review,
    set_audit_rate,
    version_stats,
)
from persistence.uow import SqlUnitOfWork

MAX_PERIOD = timedelta(days=366)


@strawberry.type(
    description="A precision figure: null below the minimum support (`reason` says why), else the share "
    "confirmed with its 95% Wilson interval."
)
class PrecisionFigure:
    value: float | None
    low: float | None = strawberry.field(description="Lower bound of the 95% interval.")
    high: float | None = strawberry.field(description="Upper bound of the 95% interval.")
    support: int = strawberry.field(description="Judged hits behind the figure.")
    confirmed: int
    minimum_support: int
    reason: str | None


def _figure(p: Precision) -> PrecisionFigure:
    return PrecisionFigure(
        value=p.value,
        low=p.low,
        high=p.high,
        support=p.support,
        confirmed=p.confirmed,
        minimum_support=MIN_SUPPORT,
        reason=p.reason,
    )


@strawberry.type(description="What one rule version did in the period.")
class RuleVersionStats:
    version: int
    hits: int
    live_hits: int
    sample_rate: float = strawberry.field(description="The version's audit sample rate (0 to 1).")
    audit_sampled: int = strawberry.field(description="Hits in the audit sample (QA items created).")
    audit_reviewed: int
    precision: PrecisionFigure = strawberry.field(
        description="Unbiased: from the reviewed audit sample (SHADOW and LIVE hits alike)."
    )
    biased_precision: PrecisionFigure = strawberry.field(
        description="Biased: hits whose subject a person happened to decide later, and how many VIOLATING."
    )
    overturned_on_appeal: int = strawberry.field(description="The version's decisions overturned on appeal.")
    reviews_created: int = strawberry.field(description="LIVE hits that put a case before a person.")
    reviews_saved: int = strawberry.field(description="LIVE hits decided without a person.")
    enqueued: int = strawberry.field(
        description="LIVE hits whose action a daily cap or circuit breaker withheld: put before a person instead "
        "(counted in reviewsCreated too), nothing automated done."
    )


def _version(s: VersionStats) -> RuleVersionStats:
    return RuleVersionStats(
        version=s.version,
        hits=s.hits,
        live_hits=s.live_hits,
        sample_rate=s.sample_bp / SAMPLE_BUCKETS,
        audit_sampled=s.sampled,
        audit_reviewed=s.reviewed,
        precision=_figure(Precision.of(s.confirmed, s.reviewed)),
        biased_precision=_figure(Precision.of(s.decided_violating, s.decided)),
        overturned_on_appeal=s.overturned,
        reviews_created=s.reviews_created,
        reviews_saved=s.reviews_saved,
        enqueued=s.enqueued,
    )


@strawberry.type
class RuleStats:
    rule_id: strawberry.ID
    start: datetime
    end: datetime
    versions: list[RuleVersionStats] = strawberry.field(description="Versions with activity, newest first.")


@strawberry.input(description="[start, end): at most 366 days; default the last 30 days.")
class PeriodInput:
    start: datetime | None = None
    end: datetime | None = None


def period_of(
    period: PeriodInput | None, now: datetime, default: timedelta = timedelta(days=30)
) -> tuple[datetime, datetime]:
    end = (period.end if period else None) or now
    start = (period.start if period else None) or end - default
    if start.tzinfo is None or end.tzinfo is None:
        raise DomainError.invalid_input("times carry a UTC offset", "period")
    if not start < end or end - start > MAX_PERIOD:
        raise DomainError.invalid_input("the period starts before it ends and spans at most 366 days", "period")
    return start.astimezone(UTC), end.astimezone(UTC)


def _pool(info: Info) -> Any:
    if info.context.pool is None:
        raise RuntimeError("rule statistics need the app's connection pool")
    return info.context.pool


def _review_regions(info: Info) -> frozenset[str] | None:
    """Where the caller may review hits: QA review and reading the cases hits name."""
    permissions = info.context.permissions
    review, read = permissions.regions(Permission.QA_REVIEW), permissions.regions(Permission.CASES_READ)
    if review is None:
        return read
    return review if read is None else review & read


@strawberry.input
class ReviewRuleHitInput:
    hit_id: strawberry.ID
    correct: bool = strawberry.field(description="Whether the rule was right to match.")
    notes: str | None = None
    snooze_days: int | None = strawberry.field(
        default=None, description="For a hit judged wrong: this rule leaves its subject alone for that many days."
    )


@strawberry.type
class ReviewRuleHitSuccess:
    hit_id: strawberry.ID
    correct: bool
    snoozed_until: datetime | None


@strawberry.input
class SetRuleAuditRateInput:
    rule_id: strawberry.ID
    sample_rate: float = strawberry.field(
        description="Share of hits sent to review, 0 to 1, from the current version on."
    )


@strawberry.type
class SetRuleAuditRateSuccess:
    rule_id: strawberry.ID
    from_version: int
    sample_rate: float


ReviewRuleHitResult = Annotated[ReviewRuleHitSuccess | MutationError, strawberry.union("ReviewRuleHitResult")]
SetRuleAuditRateResult = Annotated[SetRuleAuditRateSuccess | MutationError, strawberry.union("SetRuleAuditRateResult")]


@strawberry.type
class RuleStatsQuery:
    @strawberry.field(
        extensions=requires(Permission.RULES_READ),
        description="A rule's measured quality per version over a period (null if you may not read the rule).",
    )
    async def rule_stats(
        self, info: Info, rule_id: strawberry.ID, period: PeriodInput | None = None
    ) -> RuleStats | None:
        found = await load_rule(info, rule_id)
        if found is None:
            return None
        try:
            start, end = period_of(period, datetime.now(UTC))
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        rows = await version_stats(_pool(info), found[0].id, start, end)
        return RuleStats(rule_id=rule_id, start=start, end=end, versions=[_version(r) for r in rows])

    @strawberry.field(
        extensions=requires(Permission.QA_REVIEW),
        description="Sampled rule hits nobody reviewed yet, oldest first, where you may review and read cases.",
    )
    async def rule_audit_queue(
        self, info: Info, rule_id: strawberry.ID | None = None, first: int = 50, after: str | None = None
    ) -> Connection[RuleHit] | None:
        regions = _review_regions(info)
        wanted = [r.value for r in Region] if regions is None else sorted(regions)
        try:
            if not 1 <= first <= 200:
                raise DomainError.invalid_input("`first` is 1 to 200", "first")
            rule = None if rule_id is None else parse_id(rule_id, "Rule", field="ruleId")
            position = None
            if after is not None:
                at, key = decode_cursor(after, datetime_key=True)
                position = (at, uuid.UUID(str(key)))
        except DomainError as exc:
            raise BadRequest(exc.message, field=exc.field) from exc
        except (ValueError, TypeError):
            raise BadRequest("`after` is not a cursor this API issued", field="after") from None
        rows = await audit_queue(_pool(info), wanted, rule, position, first + 1)
        shown = rows[:first]
        cursors = [encode_cursor(r["created_at"], r["id"]) for r in shown]
        items = [_hit({**dict(r), "actions": orjson.loads(r["actions"])}) for r in shown]
        return connection(Page(items, cursors, len(rows) > first, after is not None))


@strawberry.type
class RuleStatsMutation:
    @strawberry.mutation(
        extensions=requires(Permission.QA_REVIEW),
        description="Review a rule hit of the audit sample (once): right or wrong. A wrong one may snooze its "
        "subject for this rule (`snoozeDays`, e.g. 30).",
    )
    async def review_rule_hit(self, info: Info, input: ReviewRuleHitInput) -> ReviewRuleHitResult:
        context = info.context
        try:
            hit_id = parse_id(input.hit_id, "RuleHit", field="hitId")
            snooze = None if input.snooze_days is None else timedelta(days=snooze_days(input.snooze_days))
            if input.notes is not None and len(input.notes) > 2000:
                raise DomainError.invalid_input("notes are at most 2,000 characters", "notes")

            async def attempt(_n: int) -> ReviewRuleHitSuccess:
                async with SqlUnitOfWork(context.sessions, audit_context(context, "reviewRuleHit")) as uow:
                    _, until = await record_review(
                        uow,
                        hit_id,
                        correct=input.correct,
                        notes=input.notes,
                        snooze=snooze,
                        regions=_review_regions(info),
                    )
                return ReviewRuleHitSuccess(hit_id=input.hit_id, correct=input.correct, snoozed_until=until)

            return await retrying(attempt, what="reviewRuleHit")
        except DomainError as exc:
            return failed(context, exc)

    @strawberry.mutation(
        extensions=requires(Permission.RULES_WRITE),
        description="The share of a rule's hits sent to human review, from its current version on.",
    )
    async def set_rule_audit_rate(self, info: Info, input: SetRuleAuditRateInput) -> SetRuleAuditRateResult:
        context = info.context
        try:
            sample_bp = sample_bp_of(input.sample_rate)
            found = await load_rule(info, input.rule_id)
            if found is None or not context.permissions.allows(Permission.RULES_WRITE, found[0].region.value):
                raise DomainError.not_found("no such rule", "ruleId")
            rule, version = found

            async def attempt(_n: int) -> SetRuleAuditRateSuccess:
                async with SqlUnitOfWork(context.sessions, audit_context(context, "setRuleAuditRate")) as uow:
                    await set_audit_rate(uow, rule.id, rule.region.value, version.number, sample_bp)
                return SetRuleAuditRateSuccess(
                    rule_id=input.rule_id, from_version=version.number, sample_rate=sample_bp / SAMPLE_BUCKETS
                )

            return await retrying(attempt, what="setRuleAuditRate")
        except DomainError as exc:
            return failed(context, exc)


# -- Prometheus, from the database at scrape time ---------------------------------------------------------------
SCRAPE_WINDOW = timedelta(days=1)
PRECISION_WINDOW = timedelta(days=30)
BIASED_WINDOW = timedelta(days=7)


async def rule_quality_metrics(sources: ScrapeSources) -> list[Metric]:
    where = ["rule", "region", "version"]
    hits = GaugeMetricFamily(
        "vigil_rule_hits_1d", "Hits of each rule's current version over the last day", labels=[*where, "mode"]
    )
    precision = GaugeMetricFamily(
        "vigil_rule_precision",
        "Precision of the current version (sampled: the unbiased audit sample, hits of the last 30 days; biased: "
        "later human decisions on hits of the last 7 days); absent below the minimum support",
        labels=[*where, "kind"],
    )
    support = GaugeMetricFamily(
        "vigil_rule_precision_support", "Judged hits behind each precision figure", labels=[*where, "kind"]
    )
    alarms = GaugeMetricFamily(
        "vigil_rule_hit_rate_alarms_1d", "Hit-rate alarms raised over the last day", labels=["rule", "region"]
    )
    now = datetime.now(UTC)
    async with sources.pool.acquire() as conn:
        raised = await conn.fetch(
            "SELECT rule_id, region, count(*) AS n FROM rule_alarms WHERE raised_at >= $1 GROUP BY 1, 2",
            now - SCRAPE_WINDOW,
        )
    for q in await current_quality(sources.pool, now - SCRAPE_WINDOW, now - PRECISION_WINDOW, now - BIASED_WINDOW):
        labels = [str(q.rule_id), q.region, str(q.version)]
        hits.add_metric([*labels, "LIVE"], q.live_hits_1d)
        hits.add_metric([*labels, "SHADOW"], q.shadow_hits_1d)
        for kind, figure in (
            ("sampled", Precision.of(q.confirmed, q.reviewed)),
            ("biased", Precision.of(q.decided_violating, q.decided)),
        ):
            support.add_metric([*labels, kind], figure.support)
            if figure.value is not None:
                precision.add_metric([*labels, kind], figure.value)
    for row in raised:
        alarms.add_metric([str(row["rule_id"]), row["region"]], row["n"])
    return [hits, precision, support, alarms]


register_scrape_collector("rules", rule_quality_metrics)
