"""Operations SQL: claiming the next case or appeal of a queue (``FOR UPDATE SKIP LOCKED``) and the moderation metrics,
each metric one aggregate statement on indexes (nothing is loaded row by row into Python)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.ext.asyncio import AsyncSession

from domain.appeal import AppealState
from domain.case import OPEN_STATES, CaseState
from domain.decision import Verdict
from domain.dsa.statement import SubmissionState
from domain.qa import SAMPLE_BUCKETS, QaOutcome
from persistence.tables.auth import principals
from persistence.tables.cases import cases
from persistence.tables.operations import qa_reviews, queues
from persistence.tables.outcomes import appeals, decisions, statements_of_reasons
from persistence.tables.policies import policies

WORKABLE = (CaseState.OPEN, CaseState.ASSIGNED)


def lease_is_free(expires_at: sa.ColumnElement[Any], now: Any) -> sa.ColumnElement[bool]:
    """``domain.lease.Lease.is_free`` in SQL, for cases and appeals alike (a test holds the two together): never
    taken (or given back) or expired, the two halves a case claim reads off an index each."""
    return sa.or_(lease_not_taken(expires_at), lease_expired(expires_at, now))


def lease_not_taken(expires_at: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    return expires_at.is_(None)


def lease_expired(expires_at: sa.ColumnElement[Any], now: Any) -> sa.ColumnElement[bool]:
    expired: sa.ColumnElement[bool] = expires_at <= now
    return expired


def claimable_case(
    queue_id: Any, *, now: Any, escalated: bool, regions: frozenset[str] | None = None
) -> sa.Select[Any]:
    """The queue's most urgent case without a live lease, row-locked; rows locked by others are skipped.

    An expired lease counts as free, so an abandoned case returns to the queue with no background job.
    Under READ COMMITTED a row another claimer leased and committed meanwhile is re-checked after the lock
    and fails the lease test: every case goes to exactly one claimer. ``queue_id`` and ``now`` are values or bind
    parameters (``persistence.fast.claims`` compiles it once for asyncpg); ``regions``: only cases of these.

    Two branches, each off its own partial index, so a claim never walks past the cases others hold: the most urgent
    case with no lease (``ix_cases_claimable``, in urgency order: the first row it reads is free unless another
    claimer holds it right now) and the most urgent whose lease expired (``ix_cases_lease_expiry``, a range of
    expiry times). Each branch locks its row; the more urgent one is the answer, and the other stays locked only
    until the claim's transaction ends. (One index over every open case in urgency order made each claim step over
    every leased case ahead of the first free one: a queue's claims slowed as its held cases grew.)"""
    c = cases.c
    states = [constant(s.value) for s in ([*WORKABLE, CaseState.ESCALATED] if escalated else list(WORKABLE))]
    urgency = (c.sla_due_at, c.priority.desc(), c.id)

    def branch(lease: sa.ColumnElement[bool]) -> sa.Select[Any]:
        stmt = sa.select(cases).where(c.queue_id == queue_id, c.state.in_(states), lease)
        if regions is not None:
            stmt = stmt.where(c.region.in_(sorted(regions)))
        return stmt.order_by(*urgency).limit(constant(1)).with_for_update(skip_locked=True)

    free = branch(lease_not_taken(c.lease_expires_at)).subquery("unleased")
    expired = branch(lease_expired(c.lease_expires_at, now)).subquery("expired")
    both = sa.union_all(sa.select(free), sa.select(expired)).subquery("claimable")
    return sa.select(both).order_by(both.c.sla_due_at, both.c.priority.desc(), both.c.id).limit(constant(1))


def constant(value: Any) -> Any:
    """A constant written into the SQL text, not sent as a parameter. The hot pool plans its prepared statements
    once, for any parameter values (``force_generic_plan``): with ``LIMIT $n`` and ``state IN ($a, $b)`` the plan
    for "the next case" sorted the whole queue (2 ms a claim at 5,000 cases, growing with the queue); with the
    constants in the text it reads the partial index ``ix_cases_claimable`` in order and stops at the first row."""
    return sa.literal(value, literal_execute=True)


def claimable_appeal(queue_id: uuid.UUID, *, now: datetime, decider_id: str, seniority: int) -> sa.Select[Any]:
    """The queue's most overdue PENDING appeal without a live lease that the decider may decide (someone other
    than the original decider, at least as senior), row-locked; rows locked by others are skipped.

    As for cases (``claimable_case``): an expired lease is free, and a row another claimer leased and committed
    meanwhile fails the lease test on re-check, so every appeal goes to exactly one claimer. Only ``appeals``
    rows are locked (the decision is read in a subquery). Served by the partial index ``ix_appeals_queue_claim``.
    """
    a, d = appeals.c, decisions.c
    decidable = sa.exists().where(d.id == a.decision_id, d.decider_id != decider_id, d.decider_seniority <= seniority)
    return (
        sa.select(appeals)
        .where(
            a.queue_id == queue_id,
            a.state == constant(AppealState.PENDING.value),
            lease_is_free(a.lease_expires_at, now),
            decidable,
        )
        .order_by(a.sla_due_at.asc().nulls_last(), a.filed_at, a.id)
        .limit(constant(1))
        .with_for_update(skip_locked=True)
    )


def sample_bucket_sql(case_id: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    """``domain.qa.sample_bucket`` in SQL: first 4 bytes of sha256(id text), as unsigned, mod 10,000."""
    digest = sa.func.sha256(sa.func.convert_to(sa.cast(case_id, sa.Text), "UTF8"))
    first4 = sa.func.encode(sa.func.substring(digest, 1, 4), "hex")
    unsigned = sa.cast(sa.cast(sa.literal("x", sa.Text) + first4, BIT(32)), sa.BigInteger)
    return unsigned % SAMPLE_BUCKETS


# -- metrics ------------------------------------------------------------------------------------------------
BACKLOG_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("<1h", 1),
    ("1-4h", 4),
    ("4-24h", 24),
    ("1-3d", 72),
    (">3d", None),
)
"""(label, upper bound in hours) of the backlog age buckets, youngest first."""


@dataclass(frozen=True)
class Window:
    region: str
    start: datetime
    end: datetime
    queue_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Count:
    key: str
    count: int


@dataclass(frozen=True)
class VerdictCount:
    verdict: Verdict
    policy_code: str | None
    count: int


@dataclass(frozen=True)
class Agreement:
    """One moderator's or vendor's scorecard: human decisions in the window, QA reviews of them, agreed ones.
    Per moderator also ``vendor`` (their vendor organisation, ``in-house`` for staff) and ``name`` (their display
    name, for readers who may read staff: the API decides whether to show it)."""

    key: str
    reviews: int
    agreed: int
    decisions: int = 0
    vendor: str | None = None
    name: str | None = None

    @property
    def rate(self) -> float:
        return self.agreed / self.reviews if self.reviews else 0.0


@dataclass(frozen=True)
class Metrics:
    inflow: int
    backlog: list[Count]
    decided: int
    decided_within_sla: int
    time_to_decision_p50: float | None
    time_to_decision_p90: float | None
    decisions: list[VerdictCount]
    violating: int
    appeals: int
    appeals_decided: int
    overturned: int
    automated: int
    qa_by_moderator: list[Agreement]
    qa_by_vendor: list[Agreement]
    statements: list[Count] = field(default_factory=list)  # the window's DSA statements by submission state

    @property
    def total_decisions(self) -> int:
        return sum(d.count for d in self.decisions)


def _case_scope(w: Window) -> list[sa.ColumnElement[bool]]:
    where = [cases.c.region == w.region]
    return where + ([cases.c.queue_id == w.queue_id] if w.queue_id is not None else [])


async def _inflow(session: AsyncSession, w: Window) -> int:
    c = cases.c
    stmt = sa.select(sa.func.count()).where(*_case_scope(w), c.created_at >= w.start, c.created_at < w.end)
    return int(await session.scalar(stmt) or 0)


async def _backlog(session: AsyncSession, w: Window, now: datetime) -> list[Count]:
    """Open cases now, by age since they were opened."""
    c = cases.c
    age = sa.func.extract("epoch", sa.literal(now) - c.created_at) / 3600
    whens = [(age < hours, label) for label, hours in BACKLOG_BUCKETS if hours is not None]
    bucket = sa.case(*whens, else_=BACKLOG_BUCKETS[-1][0]).label("bucket")
    stmt = sa.select(bucket, sa.func.count()).where(*_case_scope(w), c.state.in_(list(OPEN_STATES))).group_by(bucket)
    found = {str(k): int(n) for k, n in (await session.execute(stmt)).all()}
    return [Count(label, found.get(label, 0)) for label, _ in BACKLOG_BUCKETS]


async def _decided(session: AsyncSession, w: Window) -> tuple[int, int, float | None, float | None]:
    """Cases decided in the window: how many, how many by their SLA due time, p50/p90 seconds to decision."""
    c = cases.c
    seconds = sa.func.extract("epoch", c.decided_at - c.created_at)
    stmt = sa.select(
        sa.func.count(),
        sa.func.count().filter(c.decided_at <= c.sla_due_at),
        sa.func.percentile_cont(0.5).within_group(seconds),
        sa.func.percentile_cont(0.9).within_group(seconds),
    ).where(*_case_scope(w), c.decided_at >= w.start, c.decided_at < w.end)
    n, within, p50, p90 = (await session.execute(stmt)).one()
    return int(n), int(within), _float(p50), _float(p90)


def _decision_scope(w: Window) -> list[sa.ColumnElement[bool]]:
    d = decisions.c
    where = [d.region == w.region, d.decided_at >= w.start, d.decided_at < w.end]
    if w.queue_id is not None:
        where.append(sa.exists().where(cases.c.id == d.case_id, cases.c.queue_id == w.queue_id))
    return where


async def _by_verdict(session: AsyncSession, w: Window) -> tuple[list[VerdictCount], int]:
    d = decisions.c
    stmt = (
        sa.select(d.verdict, policies.c.code, sa.func.count(), sa.func.count().filter(d.automated))
        .select_from(decisions.outerjoin(policies, policies.c.id == d.policy_id))
        .where(*_decision_scope(w))
        .group_by(d.verdict, policies.c.code)
        .order_by(d.verdict, policies.c.code)
    )
    rows = (await session.execute(stmt)).all()
    counts = [VerdictCount(Verdict(v), code, int(n)) for v, code, n, _ in rows]
    return counts, sum(int(a) for *_, a in rows)


async def _appeals(session: AsyncSession, w: Window) -> tuple[int, int, int]:
    """Appeals on the window's decisions: filed, decided, overturned."""
    a = appeals.c
    stmt = (
        sa.select(
            sa.func.count(),
            sa.func.count().filter(a.state != AppealState.PENDING),
            sa.func.count().filter(a.state == AppealState.OVERTURNED),
        )
        .select_from(appeals.join(decisions, decisions.c.id == a.decision_id))
        .where(*_decision_scope(w))
    )
    filed, decided, overturned = (await session.execute(stmt)).one()
    return int(filed), int(decided), int(overturned)


def _vendor() -> sa.ColumnElement[str]:
    """A decider's vendor: a partner token's organisation, a staff member's ``partner_org``, else in-house."""
    d = decisions.c
    return sa.case(
        (d.decider_id.like("partner:%"), sa.func.substr(d.decider_id, len("partner:") + 1)),
        (principals.c.partner_org.is_not(None), principals.c.partner_org),
        else_=sa.literal("in-house"),
    )


def _decider_principal() -> sa.ColumnElement[bool]:
    return sa.cast(principals.c.id, sa.Text) == decisions.c.decider_id


async def _qa(session: AsyncSession, w: Window, *, per_moderator: bool) -> list[Agreement]:
    """Scorecards, per moderator (the decider) or per vendor: the window's human decisions (``_decision_scope``)
    and the QA reviews done in the window (of decisions of any time), two aggregates merged by key."""
    d, q = decisions.c, qa_reviews.c
    keys: list[Any] = [d.decider_id, _vendor(), principals.c.display_name] if per_moderator else [_vendor()]
    labels = [k.label(f"k{i}") for i, k in enumerate(keys)]
    scope = [q.region == w.region, q.reviewed_at >= w.start, q.reviewed_at < w.end]
    scope += [q.queue_id == w.queue_id] if w.queue_id is not None else []
    reviewed = (
        sa.select(*labels, sa.func.count(), sa.func.count().filter(q.outcome == QaOutcome.AGREE))
        .select_from(qa_reviews.join(decisions, d.id == q.decision_id).outerjoin(principals, _decider_principal()))
        .where(*scope)
        .group_by(*labels)
    )
    decided = (
        sa.select(*labels, sa.func.count())
        .select_from(decisions.outerjoin(principals, _decider_principal()))
        .where(*_decision_scope(w), sa.not_(d.automated))
        .group_by(*labels)
    )
    rows: dict[tuple[Any, ...], list[int]] = {}
    for *key, n, agreed in (await session.execute(reviewed)).all():
        rows.setdefault(tuple(key), [0, 0, 0])[:2] = [int(n), int(agreed)]
    for *key, n in (await session.execute(decided)).all():
        rows.setdefault(tuple(key), [0, 0, 0])[2] = int(n)
    cards = [
        Agreement(
            str(key[0]),
            reviews,
            agreed,
            made,
            vendor=str(key[1]) if per_moderator else None,
            name=key[2] if per_moderator else None,
        )
        for key, (reviews, agreed, made) in rows.items()
    ]
    return sorted(cards, key=lambda card: card.key)


async def _statements(session: AsyncSession, w: Window) -> list[Count]:
    """The window's decisions' statements of reasons, by submission state (every state, zero included)."""
    st = statements_of_reasons.c
    stmt = (
        sa.select(st.submission, sa.func.count())
        .select_from(statements_of_reasons.join(decisions, decisions.c.id == st.decision_id))
        .where(*_decision_scope(w))
        .group_by(st.submission)
    )
    found = {SubmissionState(k): int(n) for k, n in (await session.execute(stmt)).all()}
    return [Count(state.value, found.get(state, 0)) for state in SubmissionState]


async def moderation_metrics(session: AsyncSession, w: Window, now: datetime) -> Metrics:
    decided, within, p50, p90 = await _decided(session, w)
    by_verdict, automated = await _by_verdict(session, w)
    filed, appeals_decided, overturned = await _appeals(session, w)
    return Metrics(
        inflow=await _inflow(session, w),
        backlog=await _backlog(session, w, now),
        decided=decided,
        decided_within_sla=within,
        time_to_decision_p50=p50,
        time_to_decision_p90=p90,
        decisions=by_verdict,
        violating=sum(v.count for v in by_verdict if v.verdict is Verdict.VIOLATING),
        appeals=filed,
        appeals_decided=appeals_decided,
        overturned=overturned,
        automated=automated,
        qa_by_moderator=await _qa(session, w, per_moderator=True),
        qa_by_vendor=await _qa(session, w, per_moderator=False),
        statements=await _statements(session, w),
    )


async def qa_backlog(session: AsyncSession, queue_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Per queue: decided cases in its QA sample not yet reviewed."""
    c, q = cases.c, queues.c
    stmt = (
        sa.select(c.queue_id, sa.func.count())
        .select_from(cases.join(queues, q.id == c.queue_id))
        .where(
            c.queue_id.in_(queue_ids),
            c.state.in_([CaseState.DECIDED, CaseState.CLOSED]),
            sample_bucket_sql(c.id) < q.qa_sample_bp,
            ~sa.exists().where(qa_reviews.c.case_id == c.id),
        )
        .group_by(c.queue_id)
    )
    found = {k: int(n) for k, n in (await session.execute(stmt)).all()}
    return {queue_id: found.get(queue_id, 0) for queue_id in queue_ids}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
