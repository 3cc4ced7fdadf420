"""The seeded state every differential test starts from: built once per test through the API on its own
database, then cloned for each engine (``harness.Differential``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from api.app import create_app
from api.graphql.ids import parse_any
from api.settings import Settings
from domain.actor import Actor, ActorKind, Capability
from domain.bulk import BulkJob
from domain.clock import FixedClock
from domain.decision import Verdict
from domain.enforcement import ActionKind, RequestedAction
from domain.region import Region
from domain.services.bulk import Grant, SubmitBulkDecide, submit_bulk_decide
from persistence.db import create_engine, create_session_factory
from persistence.repositories import PostgresUnitOfWork
from persistence.tables.bulk import bulk_job_items
from tests.conftest import TEMPLATE, _fresh_database
from tests.integration.conftest import GraphQLClient
from tests.integration.differential.harness import AT, Differential, audit_of
from tests.integration.lifecycle import flows
from tests.integration.operations.helpers import define_queue
from tests.integration.operations.test_automation import define_rule
from tests.integration.tokens import issue_partner_token, issue_staff_token

RUNNER = "differential-runner"
REPORTER = Actor(id="reporter-token", kind=ActorKind.TOKEN)
MODERATOR = Actor(
    id=str(uuid.UUID(int=7)),
    kind=ActorKind.STAFF,
    seniority=1,
    capabilities=frozenset({(Capability.SANCTION_ACCOUNTS, Region.EU)}),
)


def raw(global_id: str) -> uuid.UUID:
    parsed = parse_any(global_id)
    assert parsed is not None
    return uuid.UUID(parsed[1])


@dataclass(frozen=True)
class World:
    """The ids of the seeded state (the same in every clone)."""

    hate: uuid.UUID  # a HIGH policy
    severe: uuid.UUID  # a SEVERE one: a strike from it takes the ladder's severe step at once
    eu_queue: uuid.UUID
    new_videos: tuple[uuid.UUID, ...]  # EU content nobody reported yet
    reported_video: uuid.UUID  # EU content with an open case (one report)
    decide_case: uuid.UUID  # an open EU case to decide
    bulk_job: BulkJob  # a RUNNING job over three EU cases, leased to RUNNER
    bulk_items: tuple[uuid.UUID, ...]  # its items, in order
    decide_job: BulkJob  # a RUNNING job over ``decide_case`` citing ``severe`` (what the bulk engine loads)
    signal_video: uuid.UUID  # EU content with an enqueue rule for HATE
    us_video: uuid.UUID  # US content (outside an EU caller's regions)


@pytest.fixture(scope="session")
async def seeded(pg_server_url: str, template_url: str) -> AsyncIterator[tuple[str, World]]:
    """The seeded database (built once: every test works on clones of it) and its ids."""
    async with _fresh_database(pg_server_url, "vigil_seed", TEMPLATE) as url:
        app = create_app(Settings(env="test", principal_cache_seconds=0), database_url=url)  # type: ignore[arg-type]
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as client:
                world = await _seed(GraphQLClient(client), url)
        yield url, world


@pytest.fixture
def world(seeded: tuple[str, World]) -> World:
    return seeded[1]


@pytest.fixture
def differential(pg_server_url: str, seeded: tuple[str, World]) -> Differential:
    return Differential(pg_server_url, seeded[0])


async def _seed(gql: GraphQLClient, db_url: str) -> World:
    admin = await issue_staff_token(db_url, "admin", "*")
    platform = await issue_partner_token(db_url, "platform", ["platform_service", "cases:read"], "*")
    hate = await flows.policy(gql, admin, "HATE_SPEECH")
    severe = await flows.policy(gql, admin, "SEVERE_HARM", severity="SEVERE")
    queue = await define_queue(gql, admin, "eu-content", region="EU", isDefault=True)
    await define_queue(gql, admin, "us-content", region="US", isDefault=True)
    creator = await flows.account(gql, platform, "eu-creator", region="EU")
    us_creator = await flows.account(gql, platform, "us-creator", region="US")
    videos = {name: raw(await flows.content(gql, platform, creator, name)) for name in _EU_VIDEOS}
    us_video = raw(await flows.content(gql, platform, us_creator, "us-video"))

    def gid(name: str) -> str:
        return _global("Content", videos[name])

    await flows.report(gql, platform, gid("reported"), hate, key="seed-reported")
    decided = await flows.report(gql, platform, gid("decide"), severe, key="seed-decide")
    bulk_cases = [
        raw((await flows.report(gql, platform, gid(f"bulk-{i}"), hate, key=f"seed-bulk-{i}"))["case"]["id"])
        for i in range(3)
    ]
    for i in range(2):  # an older case under claim order: distinct priorities
        await flows.report(gql, platform, gid(f"claim-{i}"), hate, key=f"seed-claim-{i}")
    rule = await define_rule(gql, admin, hate, region="EU", enqueueThreshold=0.5, decideThreshold=0.9)
    assert rule["__typename"] == "DefineAutomationRuleSuccess", rule
    job, items = await _bulk_job(db_url, bulk_cases, raw(hate))
    decide_job, _ = await _bulk_job(db_url, [raw(decided["case"]["id"])], raw(severe))
    return World(
        hate=raw(hate),
        severe=raw(severe),
        eu_queue=raw(queue["id"]),
        new_videos=tuple(videos[f"new-{i}"] for i in range(3)),
        reported_video=videos["reported"],
        decide_case=raw(decided["case"]["id"]),
        bulk_job=job,
        bulk_items=items,
        decide_job=decide_job,
        signal_video=videos["signal"],
        us_video=us_video,
    )


_EU_VIDEOS: tuple[str, ...] = ("new-0", "new-1", "new-2", "reported", "decide", "bulk-0", "bulk-1", "bulk-2")
_EU_VIDEOS += ("claim-0", "claim-1", "signal")


def _global(kind: str, id: uuid.UUID) -> str:
    from api.graphql.ids import to_global_id

    return to_global_id(kind, id)


async def _bulk_job(
    db_url: str, case_ids: list[uuid.UUID], policy_id: uuid.UUID
) -> tuple[BulkJob, tuple[uuid.UUID, ...]]:
    """A RUNNING job leased to ``RUNNER``, submitted through the domain as ``bulkDecideCases`` would; its items."""
    engine = create_engine(db_url, pool_size=1)
    try:
        uow = PostgresUnitOfWork(
            create_session_factory(engine), audit_of("bulkDecideCases", MODERATOR.id, "STAFF"), clock=FixedClock(AT)
        )
        async with uow:
            cmd = SubmitBulkDecide(
                tuple(case_ids),
                Verdict.VIOLATING,
                policy_id,
                "spam wave",
                (RequestedAction(ActionKind.REMOVE_CONTENT),),
            )
            grant = Grant(principal_kind="STAFF", decide_regions=frozenset({"EU"}), sanction_regions=frozenset({"EU"}))
            job = await submit_bulk_decide(uow, MODERATOR, cmd, grant, lease_owner=RUNNER)
        async with create_session_factory(engine)() as session:
            t = bulk_job_items.c
            rows = await session.execute(sa.select(t.id).where(t.job_id == job.id).order_by(t.position))
            return job, tuple(r[0] for r in rows)
    finally:
        await engine.dispose()
