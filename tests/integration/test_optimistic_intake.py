"""Report intake's first attempt runs unlocked (``persistence.fast.prefetched``, optimistic mode): when it loses a race
between its read and its write, its one write statement applies nothing, and the locked retry counts the report."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from api.graphql.ids import parse_id
from domain.actor import Actor, ActorKind
from domain.report import ReportSource
from domain.services.report import IntakeReads, SubmitReport, submit_report
from domain.subject import SubjectKind
from persistence.db import SessionFactory, create_engine, create_session_factory
from persistence.fast.intake import IntakeUnitOfWork
from persistence.fast.prefetched import LostRace
from persistence.fast.sql import asyncpg_dsn, create_pool, lock_key
from persistence.repositories import PostgresUnitOfWork
from persistence.uow import AuditContext
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle.flows import account, content, policy, report
from tests.integration.tokens import issue_partner_token, issue_staff_token


async def _counts(db_url: str, subject: uuid.UUID) -> tuple[int, int, int]:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT report_count FROM cases WHERE subject_id = $1) AS folded,"
            " (SELECT count(*) FROM reports WHERE subject_id = $1) AS reports,"
            " (SELECT count(*) FROM audit_events WHERE action = 'optimistic-test') AS events",
            subject,
        )
        assert row is not None
        return int(row["folded"]), int(row["reports"]), int(row["events"])
    finally:
        await conn.close()


async def test_a_write_that_lost_its_race_applies_nothing(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    owner = await account(gql, admin, "race-owner")
    policy_id = await policy(gql, admin, "RACE_SPAM")
    video = await content(gql, admin, owner, "race-video")
    await report(gql, platform, video, policy_id, key="first")  # opens the case
    subject = parse_id(video, "Content", field="subjectId")
    policy_uuid = parse_id(policy_id, "Policy", field="policyId")
    cmd = SubmitReport(SubjectKind.CONTENT, subject, policy_uuid, ReportSource.USER, idempotency_key="second")
    actor = Actor(id="race-reporter", kind=ActorKind.TOKEN)
    audit = AuditContext(actor_kind="TOKEN", actor_id=actor.id, operation="optimistic-test")
    pool = await create_pool(db_url, size=2)
    try:
        uow = IntakeUnitOfWork(pool, audit, IntakeReads.of(actor, [cmd]))
        uow.optimistic = True

        async def raced() -> None:
            async with uow:
                await submit_report(uow, actor, cmd)  # folds into the case as read: report_count 1 -> 2
                async with pool.acquire() as other:  # meanwhile another request folds a report into it
                    await other.execute(
                        "UPDATE cases SET version = version + 1, report_count = report_count + 1 WHERE subject_id = $1",
                        subject,
                    )

        with pytest.raises(LostRace):
            await raced()
        assert await _counts(db_url, subject) == (2, 1, 0)  # the other fold only: no report, no event from us

        locked = IntakeUnitOfWork(pool, audit, IntakeReads.of(actor, [cmd]))  # the retry, as run_intake makes it
        async with locked:
            await submit_report(locked, actor, cmd)
        assert await _counts(db_url, subject) == (3, 2, 2)  # the report and its case, each audited
    finally:
        await pool.close()


async def test_an_unlocked_attempt_goes_locked_when_a_subject_is_held(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    owner = await account(gql, admin, "held-owner")
    policy_id = await policy(gql, admin, "HELD_SPAM")
    video = await content(gql, admin, owner, "held-video")
    subject = parse_id(video, "Content", field="subjectId")
    cmd = SubmitReport(
        SubjectKind.CONTENT, subject, parse_id(policy_id, "Policy", field="policyId"), ReportSource.USER, None, "k"
    )
    actor = Actor(id="held-reporter", kind=ActorKind.TOKEN)
    audit = AuditContext(actor_kind="TOKEN", actor_id=actor.id, operation="optimistic-test")
    pool = await create_pool(db_url, size=2)
    try:
        async with pool.acquire() as holder, holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock($1)", lock_key(subject))  # a locked request
            uow = IntakeUnitOfWork(pool, audit, IntakeReads.of(actor, [cmd]))
            uow.optimistic = True
            with pytest.raises(LostRace, match="holds a subject's lock"):
                await uow.__aenter__()
        assert await _counts_or_none(db_url, subject) == 0
    finally:
        await pool.close()


async def _counts_or_none(db_url: str, subject: uuid.UUID) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM reports WHERE subject_id = $1", subject))
    finally:
        await conn.close()


# -- the subject lock on both engines ---------------------------------------------------------------------------
async def _waiting_on_advisory_lock(pool: asyncpg.Pool, task: asyncio.Task[Any]) -> bool:
    """Whether ``task`` ends up waiting for an advisory lock (True) or finishes without ever waiting (False).
    Polls PostgreSQL's lock table until one of the two happens: no timing decides the answer."""
    for _ in range(2000):
        if task.done():
            return False
        waiting = await pool.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        if waiting:
            return True
        await asyncio.wait([task], timeout=0.01)
    raise AssertionError("the second transaction neither waited nor finished")


async def _setup_subject(gql: GraphQLClient, db_url: str, name: str) -> tuple[uuid.UUID, uuid.UUID, str, str]:
    admin = await issue_staff_token(db_url, "admin", "*")
    owner = await account(gql, admin, f"{name}-owner")
    policy_id = await policy(gql, admin, f"{name.upper()}_SPAM")
    video = await content(gql, admin, owner, f"{name}-video")
    return parse_id(video, "Content", field="s"), parse_id(policy_id, "Policy", field="p"), video, policy_id


def _sql_uow(sessions: SessionFactory, actor: Actor) -> PostgresUnitOfWork:
    return PostgresUnitOfWork(sessions, AuditContext(actor_kind="TOKEN", actor_id=actor.id, operation="lock-test"))


async def test_the_sql_engine_folds_into_a_subjects_case_under_its_lock(gql: GraphQLClient, db_url: str) -> None:
    """Two SQL units of work reporting one new subject: the second waits for the first's commit and folds into
    the case it opened (before, both opened a case and the second failed on the unique index)."""
    subject, policy_uuid, _, _ = await _setup_subject(gql, db_url, "sqllock")
    engine = create_engine(db_url, pool_size=2)
    sessions = create_session_factory(engine)
    pool = await create_pool(db_url, size=1)
    first, second = Actor(id="first", kind=ActorKind.TOKEN), Actor(id="second", kind=ActorKind.TOKEN)

    def cmd(key: str) -> SubmitReport:
        return SubmitReport(SubjectKind.CONTENT, subject, policy_uuid, ReportSource.USER, idempotency_key=key)

    async def report_with(actor: Actor, key: str) -> None:
        async with _sql_uow(sessions, actor) as uow:
            await submit_report(uow, actor, cmd(key))

    try:
        holder = _sql_uow(sessions, first)
        await holder.__aenter__()
        await submit_report(holder, first, cmd("a"))  # opens the case in memory, holding the subject's lock
        racer = asyncio.create_task(report_with(second, "b"))
        waited = await _waiting_on_advisory_lock(pool, racer)
        await holder.__aexit__(None, None, None)  # commits: the case and its first report
        await racer
        assert waited, "the second unit of work did not wait for the subject's lock"
        rows = await pool.fetch("SELECT report_count FROM cases WHERE subject_id = $1", subject)
        assert [r["report_count"] for r in rows] == [2]
    finally:
        await pool.close()
        await engine.dispose()


async def test_an_unlocked_intake_write_yields_to_a_sql_unit_of_work_holding_the_lock(
    gql: GraphQLClient, db_url: str
) -> None:
    """Report intake's unlocked attempt read the case before a SQL unit of work (``submitSignal``'s) locked the
    subject and read it too: the unlocked write applies nothing (``LostRace``, its locked retry waits), and the SQL
    unit of work commits instead of answering CONFLICT."""
    subject, policy_uuid, video, policy_id = await _setup_subject(gql, db_url, "yield")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    await report(gql, platform, video, policy_id, key="opening")  # the case, version 1
    engine = create_engine(db_url, pool_size=1)
    sessions = create_session_factory(engine)
    pool = await create_pool(db_url, size=2)
    fast_actor, sql_actor = Actor(id="fast", kind=ActorKind.TOKEN), Actor(id="sql", kind=ActorKind.TOKEN)
    fast_cmd = SubmitReport(SubjectKind.CONTENT, subject, policy_uuid, ReportSource.USER, idempotency_key="fast")
    sql_cmd = SubmitReport(SubjectKind.CONTENT, subject, policy_uuid, ReportSource.AUTOMATED, idempotency_key="sql")
    audit = AuditContext(actor_kind="TOKEN", actor_id=fast_actor.id, operation="lock-test")
    try:
        unlocked = IntakeUnitOfWork(pool, audit, IntakeReads.of(fast_actor, [fast_cmd]))
        unlocked.optimistic = True
        await unlocked.__aenter__()  # reads the case: nobody holds the subject yet
        await submit_report(unlocked, fast_actor, fast_cmd)
        holder = _sql_uow(sessions, sql_actor)
        await holder.__aenter__()
        await submit_report(holder, sql_actor, sql_cmd)  # locks the subject, reads the same case version
        with pytest.raises(LostRace):
            await unlocked.__aexit__(None, None, None)
        await holder.__aexit__(None, None, None)  # no CONFLICT: nobody changed the case under the lock
        locked = IntakeUnitOfWork(
            pool, audit, IntakeReads.of(fast_actor, [fast_cmd])
        )  # the retry, as run_intake makes it
        async with locked:
            await submit_report(locked, fast_actor, fast_cmd)
        count = await pool.fetchval("SELECT report_count FROM cases WHERE subject_id = $1", subject)
        assert count == 3
    finally:
        await pool.close()
        await engine.dispose()
