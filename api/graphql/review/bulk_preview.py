"""`previewBulkDecideCases`: what `bulkDecideCases` would decide and add on the strike ladder, writing nothing.

The same input as `bulkDecideCases` (its `maxLadderStep` included), the same up-front checks and typed errors,
then every case through `decideCase`'s checks in the submitter's permissions (``domain.services.bulk_preview``),
in a unit of work that is rolled back: nothing is written, not even an audit event. It answers figures only (no
case, account or decision), so nothing in it needs a read check beyond the caller's region walls.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.permissions import requires
from api.graphql.review.bulk import BulkDecideCasesInput, submission
from api.graphql.runner import actor_for, failed, unit_of_work
from api.graphql.shared.common import MutationError
from authz.permissions import Permission
from domain.bulk import LadderLevel
from domain.errors import DomainError
from domain.services.bulk_preview import BulkPreview, preview_bulk_decide


@strawberry.type(description="Items that would fail, by the typed error code each would answer.")
class BulkPreviewFailure:
    code: str
    count: int


@strawberry.type(description="What a bulk decision would do, computed before anything is applied.")
class BulkDecidePreview:
    total: int = strawberry.field(description="The cases named.")
    decidable: int = strawberry.field(description="Items that would succeed.")
    failures: list[BulkPreviewFailure] = strawberry.field(description="The others, by error code.")
    strikes: int = strawberry.field(description="Strikes the decisions would issue.")
    accounts_warned: int = strawberry.field(description="Accounts whose highest new ladder step is a warning.")
    accounts_restricted: int = strawberry.field(description="... a restriction (features restricted, ads held).")
    accounts_suspended: int = strawberry.field(description="... a suspension.")
    accounts_banned: int = strawberry.field(description="... a ban.")
    skipped_ladder_steps: int = strawberry.field(description="Ladder steps `maxLadderStep` would skip.")


PreviewBulkDecideCasesResult = Annotated[
    BulkDecidePreview | MutationError, strawberry.union("PreviewBulkDecideCasesResult")
]


class _Discard(Exception):
    """Leaves the preview's unit of work by rolling it back (it changed nothing; nothing is committed either)."""

    def __init__(self, preview: BulkPreview) -> None:
        super().__init__("preview")
        self.preview = preview


def _shown(preview: BulkPreview) -> BulkDecidePreview:
    accounts = preview.accounts
    return BulkDecidePreview(
        total=preview.total,
        decidable=preview.decidable,
        failures=[BulkPreviewFailure(code=code, count=count) for code, count in preview.failures],
        strikes=preview.strikes,
        accounts_warned=accounts[LadderLevel.WARN],
        accounts_restricted=accounts[LadderLevel.RESTRICT],
        accounts_suspended=accounts[LadderLevel.SUSPEND],
        accounts_banned=accounts[LadderLevel.BAN],
        skipped_ladder_steps=preview.skipped_steps,
    )


@strawberry.type
class BulkPreviewQuery:
    @strawberry.field(
        extensions=requires(Permission.CASES_DECIDE),
        description="Preview `bulkDecideCases` with the same input: how many items would succeed or fail (by "
        "error code), and how many accounts the strike ladder would warn, restrict, suspend or ban (each account "
        "counted once, at the highest step the job would add), under `maxLadderStep` if given. Writes nothing.",
    )
    async def preview_bulk_decide_cases(
        self, info: Info, input: BulkDecideCasesInput
    ) -> PreviewBulkDecideCasesResult | None:
        context = info.context
        try:
            cmd, grant = submission(context, input)
            actor = actor_for(context, Permission.CASES_DECIDE)
            try:
                async with unit_of_work(context, "previewBulkDecideCases", Permission.CASES_DECIDE) as uow:
                    raise _Discard(await preview_bulk_decide(uow, actor, cmd, grant))
            except _Discard as done:
                return _shown(done.preview)
        except DomainError as exc:
            return failed(context, exc)
