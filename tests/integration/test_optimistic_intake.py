"""Report intake's first attempt runs unlocked (``persistence.prefetched``, optimistic mode): when it loses a race
between its read and its write, its one write statement applies nothing, and the locked retry counts the report."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from api.graphql.ids import parse_id
from domain.actor import Actor, ActorKind
from domain.report import ReportSource
from domain.services.report import SubmitReport, submit_report
from domain.subject import SubjectKind
from persistence.fastsql import asyncpg_dsn, create_pool, lock_key
from persistence.intake import IntakeItem, IntakeUnitOfWork
from persistence.prefetched import LostRace
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
    item = IntakeItem(cmd.subject_kind, cmd.subject_id, cmd.policy_id, cmd.idempotency_key)
    actor = Actor(id="race-reporter", kind=ActorKind.TOKEN)
    audit = AuditContext(actor_kind="TOKEN", actor_id=actor.id, operation="optimistic-test")
    pool = await create_pool(db_url, size=2)
    try:
        uow = IntakeUnitOfWork(pool, audit, actor.id, [item])
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

        locked = IntakeUnitOfWork(pool, audit, actor.id, [item])  # the retry, as run_intake makes it
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
    item = IntakeItem(cmd.subject_kind, cmd.subject_id, cmd.policy_id, cmd.idempotency_key)
    actor = Actor(id="held-reporter", kind=ActorKind.TOKEN)
    audit = AuditContext(actor_kind="TOKEN", actor_id=actor.id, operation="optimistic-test")
    pool = await create_pool(db_url, size=2)
    try:
        async with pool.acquire() as holder, holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock($1)", lock_key(subject))  # a locked request
            uow = IntakeUnitOfWork(pool, audit, actor.id, [item])
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
