"""Appeals: filed by (or for) the affected account owner, decided by someone else of at least the same seniority."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.ids import parse_id
from api.graphql.permissions import requires
from api.graphql.runner import run
from api.graphql.types.common import MutationError
from api.graphql.types.nodes import Appeal, Decision, EnforcementAction, Strike, build, build_all
from authz.permissions import Permission
from domain.actor import Actor
from domain.appeal import AppealState
from domain.services.appeal import DecideAppeal, FileAppeal, decide_appeal, file_appeal
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
    decision: Decision
    reversed_actions: list[EnforcementAction]
    reversed_strikes: list[Strike]
    restored_actions: list[EnforcementAction] = strawberry.field(
        description="Earlier ladder penalties re-applied because they would still be in force."
    )


FileAppealResult = Annotated[FileAppealSuccess | MutationError, strawberry.union("FileAppealResult")]
DecideAppealResult = Annotated[DecideAppealSuccess | MutationError, strawberry.union("DecideAppealResult")]


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
                decision=build(Decision, result.decision),
                reversed_actions=build_all(EnforcementAction, list(result.reversed_actions)),
                reversed_strikes=build_all(Strike, list(result.reversed_strikes)),
                restored_actions=build_all(EnforcementAction, list(result.added_actions)),
            )

        return await run(info, "decideAppeal", Permission.APPEALS_DECIDE, command, reason=input.rationale)
