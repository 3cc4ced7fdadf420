"""Appeals' mutations: filing and deciding appeals (decided by someone else of at least the same seniority),
and working the APPEALS queues: claim the most overdue appeal you may decide (a lease), renew it, release it.

Only those who decide appeals claim them (``appeals:decide``), and only from a queue one of whose roles they
hold in its region (the rule of ``claimNextCase``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import strawberry

from api.graphql.appeals.types import Appeal
from api.graphql.context import Info
from api.graphql.ids import parse_id
from api.graphql.permissions import requires
from api.graphql.runner import run
from api.graphql.shared.access import roles_in
from api.graphql.shared.build import build, build_all
from api.graphql.shared.common import MutationError
from api.graphql.shared.refs import DecisionRef, EnforcementActionRef, StrikeRef
from authz.permissions import Permission
from domain.actor import Actor
from domain.appeal import AppealState
from domain.services.appeal import (
    ClaimNextAppeal,
    DecideAppeal,
    FileAppeal,
    ReleaseAppeal,
    claim_next_appeal,
    decide_appeal,
    file_appeal,
    release_appeal,
)
from domain.services.queue import get_queue
from persistence.repositories import PostgresUnitOfWork


@strawberry.enum(description="How an appeal is decided.")
class AppealOutcome(StrEnum):
    UPHELD = "UPHELD"
    OVERTURNED = "OVERTURNED"


@strawberry.input
class FileAppealInput:
    decision_id: strawberry.ID
    appellant_account_id: strawberry.ID = strawberry.field(description="The affected account contesting it.")
    statement: str


@strawberry.type
class FileAppealSuccess:
    appeal: Appeal


@strawberry.input
class DecideAppealInput:
    appeal_id: strawberry.ID
    outcome: AppealOutcome
    rationale: str


@strawberry.type
class DecideAppealSuccess:
    appeal: Appeal
    decision: DecisionRef
    reversed_actions: list[EnforcementActionRef]
    reversed_strikes: list[StrikeRef]
    restored_actions: list[EnforcementActionRef] = strawberry.field(
        description="Earlier ladder penalties re-applied because they would still be in force."
    )


FileAppealResult = Annotated[FileAppealSuccess | MutationError, strawberry.union("FileAppealResult")]


DecideAppealResult = Annotated[DecideAppealSuccess | MutationError, strawberry.union("DecideAppealResult")]


@strawberry.input
class ClaimNextAppealInput:
    queue_id: strawberry.ID = strawberry.field(description="An APPEALS queue.")
    renew_appeal_id: strawberry.ID | None = strawberry.field(
        default=None, description="Renew your lease on this appeal of the queue instead of taking a new one."
    )


@strawberry.type
class ClaimNextAppealSuccess:
    appeal: Appeal | None = strawberry.field(description="The leased appeal; null when nothing is free for you.")


@strawberry.input
class ReleaseAppealInput:
    appeal_id: strawberry.ID


@strawberry.type
class ReleaseAppealSuccess:
    appeal: Appeal


ClaimNextAppealResult = Annotated[ClaimNextAppealSuccess | MutationError, strawberry.union("ClaimNextAppealResult")]


ReleaseAppealResult = Annotated[ReleaseAppealSuccess | MutationError, strawberry.union("ReleaseAppealResult")]


@strawberry.type
class AppealMutation:
    @strawberry.mutation(
        extensions=requires(Permission.APPEALS_CREATE),
        description="Within 180 days of the decision, once per decision, only by the account the decision affects.",
    )
    async def file_appeal(self, info: Info, input: FileAppealInput) -> FileAppealResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> FileAppealSuccess:
            cmd = FileAppeal(
                decision_id=parse_id(input.decision_id, "Decision", field="decisionId"),
                appellant_account_id=parse_id(input.appellant_account_id, "Account", field="appellantAccountId"),
                statement=input.statement,
            )
            return FileAppealSuccess(appeal=build(Appeal, await file_appeal(uow, actor, cmd)))

        return await run(info, "fileAppeal", Permission.APPEALS_CREATE, command)

    @strawberry.mutation(
        extensions=requires(Permission.APPEALS_DECIDE),
        description="OVERTURNED reverses the "
        "decision's actions and strike and re-evaluates the strike ladder; UPHELD changes nothing.",
    )
    async def decide_appeal(self, info: Info, input: DecideAppealInput) -> DecideAppealResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> DecideAppealSuccess:
            outcome = AppealState(input.outcome.value)
            cmd = DecideAppeal(
                appeal_id=parse_id(input.appeal_id, "Appeal", field="appealId"),
                outcome=outcome,
                rationale=input.rationale,
            )
            result = await decide_appeal(uow, actor, cmd)
            return DecideAppealSuccess(
                appeal=build(Appeal, result.appeal),
                decision=build(DecisionRef, result.decision),
                reversed_actions=build_all(EnforcementActionRef, list(result.reversed_actions)),
                reversed_strikes=build_all(StrikeRef, list(result.reversed_strikes)),
                restored_actions=build_all(EnforcementActionRef, list(result.added_actions)),
            )

        return await run(info, "decideAppeal", Permission.APPEALS_DECIDE, command, reason=input.rationale)

    @strawberry.mutation(
        extensions=requires(Permission.APPEALS_DECIDE),
        description="Lease the most overdue free appeal of an APPEALS queue you may work and may decide "
        "(renewAppealId: renew a lease you hold).",
    )
    async def claim_next_appeal(self, info: Info, input: ClaimNextAppealInput) -> ClaimNextAppealResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> ClaimNextAppealSuccess:
            queue = await get_queue(uow, parse_id(input.queue_id, "Queue", field="queueId"))
            renew = input.renew_appeal_id
            cmd = ClaimNextAppeal(
                queue_id=queue.id,
                roles=roles_in(info.context, queue.region, Permission.APPEALS_DECIDE),
                renew_appeal_id=parse_id(renew, "Appeal", field="renewAppealId") if renew else None,
            )
            appeal = await claim_next_appeal(uow, actor, cmd)
            return ClaimNextAppealSuccess(appeal=build(Appeal, appeal) if appeal else None)

        return await run(info, "claimNextAppeal", Permission.APPEALS_DECIDE, command)

    @strawberry.mutation(extensions=requires(Permission.APPEALS_DECIDE), description="Give a held appeal back.")
    async def release_appeal(self, info: Info, input: ReleaseAppealInput) -> ReleaseAppealResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> ReleaseAppealSuccess:
            cmd = ReleaseAppeal(appeal_id=parse_id(input.appeal_id, "Appeal", field="appealId"))
            return ReleaseAppealSuccess(appeal=build(Appeal, await release_appeal(uow, actor, cmd)))

        return await run(info, "releaseAppeal", Permission.APPEALS_DECIDE, command)
