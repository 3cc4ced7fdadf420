"""claimNextCase, decideCase (in the EU: a strike that takes the ladder's severe step, and a DSA statement) and a
bulk chunk, each on the SQL unit of work and on its prefetching one: the same rows, audit and outbox events."""

from __future__ import annotations

from typing import Any

from domain.decision import Verdict
from domain.enforcement import ActionKind, RequestedAction
from domain.services.bulk import ChunkReads, run_chunk
from domain.services.decision import DecideCase, decide_case
from domain.services.queue import ClaimNextCase, ClaimReads, claim_next_case
from persistence.fast.bulk import BulkUnitOfWork
from persistence.fast.claims import ClaimUnitOfWork
from persistence.repositories import PostgresUnitOfWork
from persistence.uow import AuditContext
from tests.integration.differential.conftest import MODERATOR, RUNNER, World
from tests.integration.differential.harness import Differential, Run, Side, audit_of

EU = frozenset({"EU"})


def _sql(side: Side, audit: AuditContext) -> PostgresUnitOfWork:
    return PostgresUnitOfWork(side.sessions, audit, regions=EU, clock=side.clock)


async def test_claim_next_case(differential: Differential, world: World) -> None:
    audit = audit_of("claimNextCase", MODERATOR.id, "STAFF")
    cmd = ClaimNextCase(queue_id=world.eu_queue, roles=frozenset({"moderator"}))

    async def on_sql(side: Side) -> Any:
        async with _sql(side, audit) as uow:
            return await claim_next_case(uow, MODERATOR, cmd)

    async def on_claims(side: Side) -> Any:
        uow = ClaimUnitOfWork(side.pool, audit, ClaimReads.of(MODERATOR, world.eu_queue), regions=EU, clock=side.clock)
        async with uow:
            return await claim_next_case(uow, MODERATOR, cmd)

    a, b = await differential.run(on_sql, on_claims)
    assert a.audit_kinds() == [("Case", "update")]
    assert a.results.id == b.results.id


def _decide(world: World) -> DecideCase:
    return DecideCase(
        case_id=world.decide_case,
        verdict=Verdict.VIOLATING,
        policy_id=world.severe,
        rationale="Threat of violence in the video.",
        actions=(RequestedAction(ActionKind.REMOVE_CONTENT),),
    )


def decide_on_sql(world: World) -> Run:
    async def run(side: Side) -> Any:
        async with _sql(side, audit_of("decideCase", MODERATOR.id, "STAFF")) as uow:
            return await decide_case(uow, MODERATOR, _decide(world))

    return run


def decide_on_bulk(world: World) -> Run:
    async def run(side: Side) -> Any:
        job = world.decide_job
        uow = BulkUnitOfWork(
            side.pool,
            audit_of("decideCase", MODERATOR.id, "STAFF"),
            job.id,
            limit=2,
            policy_id=job.policy_id,
            regions=EU,
            clock=side.clock,
        )
        async with uow:
            return await decide_case(uow, MODERATOR, _decide(world))

    return run


async def test_decide_case_in_the_eu(differential: Differential, world: World) -> None:
    a, _ = await differential.run(decide_on_sql(world), decide_on_bulk(world))
    kinds = a.audit_kinds()
    assert ("StatementOfReasons", "insert") in kinds, kinds
    assert ("Strike", "insert") in kinds, kinds
    ladder = [a for a in a.results.actions if a.source.value == "LADDER"]
    assert ladder, "the severe policy's strike takes a ladder step"


async def test_a_bulk_chunk(differential: Differential, world: World) -> None:
    job_audit = AuditContext(
        actor_kind="STAFF",
        actor_id=MODERATOR.id,
        operation="bulkDecideCases",
        request_id=world.bulk_job.request_id,
        reason=world.bulk_job.rationale,
    )

    async def on_sql(side: Side) -> Any:
        async with _sql(side, job_audit) as uow:
            job = await uow.bulk_jobs.get(world.bulk_job.id)
            assert job is not None
            items = [await uow.bulk_items.get(i) for i in world.bulk_items]
            return await run_chunk(uow, job, [i for i in items if i is not None], lease_owner=RUNNER, more=False)

    async def on_bulk(side: Side) -> Any:
        reads = ChunkReads.of(world.bulk_job, chunk_size=len(world.bulk_items))
        uow = BulkUnitOfWork.for_chunk(side.pool, job_audit, reads, regions=EU, clock=side.clock)
        async with uow:
            assert uow.data.job is not None
            return await run_chunk(
                uow,
                uow.data.job,
                uow.data.items,
                lease_owner=RUNNER,
                more=False,
                untouched=uow.changes,
            )

    a, b = await differential.run(on_sql, on_bulk)
    assert a.results == b.results
    assert a.results.succeeded == len(world.bulk_items)
