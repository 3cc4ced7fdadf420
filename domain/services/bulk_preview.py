"""Previewing a bulk decision: what ``bulkDecideCases`` would decide and what the strike ladder would add, per
account, before anything is applied, writing nothing.

Each case goes through ``decide_case``'s own checks (``check_decide``) and authority check
(``ensure_may_enforce``: the requested actions and the ladder step the strike reaches, in the case's region,
for the job's actor), in the order the job would run them. The strikes earlier items would issue count for later
ones on the same account (held in memory, beside the account's stored strikes), so an account reported twice in
one job climbs two steps, as it would when the job runs. The job's ``maxLadderStep`` is applied the same way.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any, cast

from domain.actor import Actor
from domain.bulk import BulkJob, LadderLevel, level_of
from domain.config import DEFAULT_CONFIG, DomainConfig
from domain.decision import Verdict
from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.services.bulk import Grant, SubmitBulkDecide, item_command, new_job
from domain.services.decision import check_decide
from domain.services.enforcement import ensure_may_enforce
from domain.strike import Strike


@dataclass(frozen=True)
class BulkPreview:
    """``decidable``: items that would succeed; ``failures``: (error code, how many) for the others;
    ``accounts``: accounts by the highest ladder step the job would add to them; ``skipped_steps``: ladder steps
    ``maxLadderStep`` would skip; ``strikes``: strikes it would issue."""

    total: int
    decidable: int
    failures: tuple[tuple[str, int], ...]
    accounts: dict[LadderLevel, int]
    skipped_steps: int
    strikes: int


class _Strikes:
    """The account's stored strikes plus the ones earlier items of the preview would issue."""

    def __init__(self, stored: Any) -> None:
        self.stored = stored
        self.issued: dict[uuid.UUID, list[Strike]] = {}

    async def list_for_account(self, account_id: uuid.UUID) -> list[Strike]:
        return [*await self.stored.list_for_account(account_id), *self.issued.get(account_id, ())]


class _Preview:
    """The unit of work as the preview reads it: everything as stored, strikes with the preview's own."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self.strikes = _Strikes(uow.strikes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


async def preview_bulk_decide(
    uow: UnitOfWork, actor: Actor, cmd: SubmitBulkDecide, grant: Grant, config: DomainConfig = DEFAULT_CONFIG
) -> BulkPreview:
    """What submitting ``cmd`` would do, item by item, with nothing written; bad input fails exactly as
    ``submit_bulk_decide`` does. Only reads: the caller's unit of work must see what the job's would."""
    job: BulkJob = await new_job(uow, actor, cmd, grant)
    view = _Preview(uow)
    failures: Counter[str] = Counter()
    highest: dict[uuid.UUID, LadderLevel] = {}
    skipped = strikes = 0
    order = tuple(LadderLevel)
    for case_id in cmd.case_ids:
        item = item_command(job, case_id)
        try:
            checked = await check_decide(uow, job.actor, item)
            if item.verdict is not Verdict.VIOLATING:
                continue
            plan = await ensure_may_enforce(
                cast(UnitOfWork, view), job.actor, checked.subject, checked.cited, item.actions, config,
                item.ladder_step_allowed,
            )  # fmt: skip
        except DomainError as error:
            failures[error.code.value] += 1
            continue
        account = plan.strike.account_id
        view.strikes.issued.setdefault(account, []).append(plan.strike)
        strikes += 1
        skipped += plan.skipped is not None
        if plan.step is not None:
            level = level_of(plan.step.action)
            if account not in highest or order.index(level) > order.index(highest[account]):
                highest[account] = level
    reached = Counter(highest.values())
    return BulkPreview(
        total=len(cmd.case_ids),
        decidable=len(cmd.case_ids) - sum(failures.values()),
        failures=tuple(sorted(failures.items())),
        accounts={level: reached.get(level, 0) for level in LadderLevel},
        skipped_steps=skipped,
        strikes=strikes,
    )
