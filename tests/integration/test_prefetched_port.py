"""The prefetching units of work implement the domain's UnitOfWork port explicitly: a repository outside their read
set raises ``NotLoaded`` when reached for, and so does changing an entity they loaded without tracking it (before,
the change was silently dropped at commit)."""

from __future__ import annotations

import pytest

from api.graphql.ids import parse_id
from domain.actor import Actor, ActorKind
from domain.report import ReportSource
from domain.services.queue import ClaimReads
from domain.services.report import IntakeReads, SubmitReport, submit_report
from domain.subject import SubjectKind
from persistence.fast.claims import ClaimUnitOfWork
from persistence.fast.intake import IntakeUnitOfWork
from persistence.fast.prefetched import NotLoaded
from persistence.fast.sql import create_pool
from persistence.uow import AuditContext
from tests.integration.conftest import GraphQLClient
from tests.integration.lifecycle.flows import account, content, policy
from tests.integration.operations.helpers import define_queue
from tests.integration.tokens import issue_staff_token

ACTOR = Actor(id="port-reporter", kind=ActorKind.TOKEN)
AUDIT = AuditContext(actor_kind="TOKEN", actor_id=ACTOR.id, operation="port-test")


async def test_report_intake_refuses_what_it_did_not_load_or_track(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    owner = await account(gql, admin, "port-owner")
    video = parse_id(await content(gql, admin, owner, "port-video"), "Content", field="s")
    policy_id = parse_id(await policy(gql, admin, "PORT_SPAM"), "Policy", field="p")
    cmd = SubmitReport(SubjectKind.CONTENT, video, policy_id, ReportSource.USER, idempotency_key="port")
    pool = await create_pool(db_url, size=1)
    try:
        async with IntakeUnitOfWork(pool, AUDIT, IntakeReads.of(ACTOR, [cmd])) as uow:
            loaded = await uow.contents.get(video)
            assert loaded is not None
            assert loaded.title == "a video"
            with pytest.raises(NotLoaded, match="not loaded for tracking"):
                loaded.title = "changed where nothing would write it"
            with pytest.raises(NotLoaded, match="report intake does not load appeals"):
                _ = uow.appeals
            with pytest.raises(NotLoaded, match="report intake does not load queues by name"):
                await uow.queues.get_by_name(loaded.region, "anything")
            report = await submit_report(uow, ACTOR, cmd)  # what it did load still works, and is written
        assert await pool.fetchval("SELECT count(*) FROM reports WHERE id = $1", report.id) == 1
        assert await pool.fetchval("SELECT title FROM contents WHERE id = $1", video) == "a video"
    finally:
        await pool.close()


async def test_a_claim_refuses_what_it_did_not_load_or_track(gql: GraphQLClient, db_url: str) -> None:
    admin = await issue_staff_token(db_url, "admin", "*")
    queue = await define_queue(gql, admin, "port-queue", isDefault=True)
    queue_id = parse_id(queue["id"], "Queue", field="q")
    moderator = Actor(id="port-moderator", kind=ActorKind.STAFF)
    pool = await create_pool(db_url, size=1)
    try:
        async with ClaimUnitOfWork(pool, AUDIT, ClaimReads.of(moderator, queue_id)) as uow:
            loaded = await uow.queues.get(queue_id)
            assert loaded is not None
            with pytest.raises(NotLoaded, match="not loaded for tracking"):
                loaded.name = "renamed"
            with pytest.raises(NotLoaded, match="claiming does not load reports"):
                _ = uow.reports
    finally:
        await pool.close()
