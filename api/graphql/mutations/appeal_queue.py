"""Working the APPEALS queues: claim the most overdue appeal you may decide (a lease), renew it, release it.

Only those who decide appeals claim them (``appeals:decide``), and only from a queue one of whose roles they
hold in its region (the rule of ``claimNextCase``).
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.ids import parse_id
from api.graphql.operations import roles_in
from api.graphql.permissions import requires
from api.graphql.runner import run
from api.graphql.types.common import MutationError
from api.graphql.types.nodes import Appeal, build
from authz.permissions import Permission
from domain.actor import Actor
from domain.services.appeal import ClaimNextAppeal, ReleaseAppeal, claim_next_appeal, release_appeal
from domain.services.queue import get_queue
from persistence.repositories import PostgresUnitOfWork


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
class AppealQueueMutation:
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
