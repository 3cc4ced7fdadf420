"""One retry policy (``persistence.retry``) for every command and engine: a lost race runs the command again, a
refusal does not, and a command that keeps losing answers the one typed CONFLICT after ``ATTEMPTS`` tries."""

from __future__ import annotations

import asyncpg
import pytest

from api.graphql.ids import parse_id
from domain.actor import Actor, ActorKind
from domain.errors import DomainError, ErrorCode
from domain.report import ReportSource
from domain.services.report import IntakeReads, SubmitReport, submit_report
from domain.subject import SubjectKind
from persistence.db import create_engine, create_session_factory
from persistence.fast.intake import IntakeUnitOfWork
from persistence.fast.sql import create_pool
from persistence.repositories import PostgresUnitOfWork
from persistence.retry import ATTEMPTS, GaveUp, LostRace, lost_race, retrying
from persistence.uow import AuditContext
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle.flows import account, content, policy, report
from tests.integration.tokens import issue_partner_token, issue_staff_token

AUDIT = AuditContext(actor_kind="TOKEN", actor_id="retry-reporter", operation="retry-test")
ACTOR = Actor(id="retry-reporter", kind=ActorKind.TOKEN)


async def test_a_version_conflict_on_either_engine_is_a_lost_race_the_policy_runs_again(
    gql: GraphQLClient, db_url: str
) -> None:
    """Each engine's first attempt folds into a case someone else changes before its write: both raise the same
    ``LostRace`` (the SQL engine used to answer a plain CONFLICT, never retried), the second attempt folds."""
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service"], "*")
    owner = await account(gql, admin, "retry-owner")
    policy_id = await policy(gql, admin, "RETRY_SPAM")
    video = await content(gql, admin, owner, "retry-video")
    await report(gql, platform, video, policy_id, key="opening")
    subject = parse_id(video, "Content", field="s")
    policy_uuid = parse_id(policy_id, "Policy", field="p")
    engine = create_engine(db_url, pool_size=1)
    sessions = create_session_factory(engine)
    pool = await create_pool(db_url, size=2)

    async def meddle() -> None:
        await pool.execute("UPDATE cases SET version = version + 1 WHERE subject_id = $1", subject)

    def cmd(key: str) -> SubmitReport:
        return SubmitReport(SubjectKind.CONTENT, subject, policy_uuid, ReportSource.USER, idempotency_key=key)

    async def on_sql(n: int) -> None:
        async with PostgresUnitOfWork(sessions, AUDIT) as uow:
            await submit_report(uow, ACTOR, cmd("sql"))
            if n == 1:
                await uow.session.commit()  # let go of the subject's lock, then someone changes the case
                await meddle()

    async def on_intake(n: int) -> None:
        uow = IntakeUnitOfWork(pool, AUDIT, IntakeReads.of(ACTOR, [cmd("fast")]))
        async with uow:
            await submit_report(uow, ACTOR, cmd("fast"))
            if n == 1:
                await meddle()

    attempts: dict[str, list[int]] = {"sql": [], "fast": []}
    try:
        for name, attempt in (("sql", on_sql), ("fast", on_intake)):

            async def counted(n: int, name: str = name, attempt: object = attempt) -> None:
                attempts[name].append(n)
                await attempt(n)  # type: ignore[operator]

            await retrying(counted)
        count = await pool.fetchval("SELECT report_count FROM cases WHERE subject_id = $1", subject)
    finally:
        await pool.close()
        await engine.dispose()
    assert attempts == {"sql": [1, 2], "fast": [1, 2]}
    assert count == 3


async def test_a_command_that_keeps_losing_gives_up_with_the_one_typed_conflict() -> None:
    calls: list[int] = []

    async def always_loses(n: int) -> None:
        calls.append(n)
        raise LostRace("changed meanwhile")

    with pytest.raises(GaveUp) as gave_up:
        await retrying(always_loses)
    assert calls == list(range(1, ATTEMPTS + 1))
    assert gave_up.value.code is ErrorCode.CONFLICT


async def test_a_refusal_is_not_retried() -> None:
    calls: list[int] = []

    async def refused(n: int) -> None:
        calls.append(n)
        raise DomainError.conflict("this case has already been QA-reviewed")

    with pytest.raises(DomainError, match="already been QA-reviewed"):
        await retrying(refused)
    assert calls == [1]


def test_what_counts_as_a_lost_race() -> None:
    assert lost_race(LostRace("x"))
    assert lost_race(asyncpg.UniqueViolationError("duplicate key"))
    assert lost_race(asyncpg.DeadlockDetectedError("deadlock"))
    assert lost_race(asyncpg.SerializationError("could not serialize"))
    assert not lost_race(asyncpg.CheckViolationError("check"))
    assert not lost_race(DomainError.conflict("a business conflict"))
    assert not lost_race(ValueError("a fault"))
