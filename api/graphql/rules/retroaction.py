"""``retroactRule``: a COMPLETED backtest's version applied to what it matched (``domain.services.retroaction``),
in one transaction with its audit records: the reports and routes of its ``open_case``, ``hold`` and ``decide``, the
bulk job of its ``decide``, its labels, and the backtest marked applied (once).

The caller needs ``rules:read`` in the rule's region (else the backtest does not exist for them), ``cases:decide``
there for a version that decides (as ``bulkDecideCases``) and ``rules:write`` there for any other action.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.graphql.context import Context, Info
from api.graphql.permissions import requires
from api.graphql.rules.backtests import pool_of, readable_backtest
from api.graphql.runner import failed, run
from api.graphql.shared.common import MutationError
from api.services.bulk_jobs import frozen_regions
from authz.permissions import Permission
from domain.errors import DomainError
from domain.rules import Decide
from domain.services.bulk import Grant
from domain.services.events import Accepted
from domain.services.retroaction import (
    MAX_RETRO,
    Retroaction,
    check_limits,
    decide_of,
    immediate,
    labels_of,
    needs_cases,
    retroact,
    snoozed_subjects,
)
from domain.services.rule_runs import ActiveRule
from domain.services.rules import RuleState
from persistence import backtests as store
from persistence import rule_runtime, rule_stats
from persistence.repositories import PostgresUnitOfWork
from persistence.rule_labels import write_labels
from persistence.rules import rule_by_id

if TYPE_CHECKING:
    from api.graphql.review.bulk import BulkJob


@strawberry.input(description="Apply a COMPLETED backtest's version to what it matched.")
class RetroactRuleInput:
    backtest_id: strawberry.ID
    rationale: str


@strawberry.type
class RetroactRuleSuccess:
    job: Annotated[BulkJob, strawberry.lazy("api.graphql.review.bulk")] | None = strawberry.field(
        description="The bulk job deciding the cases (a version with `decide`), else null. Follow it with `bulkJob`."
    )
    cases: int = strawberry.field(
        description="Cases the run reported on: one per matched subject Vigil knows (0 for a version that only labels)."
    )
    labels: int = strawberry.field(description="Labels written: one per entity named by the matched events.")
    snoozed: int = strawberry.field(
        description="Matched subjects left alone, as a LIVE run would leave them now: a person decided on one in the "
        "last 7 days, or judged this rule wrong on it with a snooze (`reviewRuleHit`'s `snoozeDays`)."
    )


RetroactRuleResult = Annotated[RetroactRuleSuccess | MutationError, strawberry.union("RetroactRuleResult")]


def _required(actions: tuple[Any, ...]) -> list[tuple[Permission, str]]:
    """What acting needs in the rule's region, each with how a refusal says it."""
    needed: list[tuple[Permission, str]] = []
    if any(isinstance(a, Decide) for a in actions):
        needed.append((Permission.CASES_DECIDE, "decide cases"))
    if any(not isinstance(a, Decide) for a in actions):
        needed.append((Permission.RULES_WRITE, "act as rules"))
    return needed


@strawberry.type
class RetroactionMutation:
    @strawberry.mutation(
        extensions=requires(Permission.CASES_DECIDE, Permission.RULES_WRITE),
        description="Apply a COMPLETED backtest's version to what it matched, each action once and at once (a "
        "delay is not waited for): `open_case`, `hold` and `decide` file one AUTOMATED report per matched subject "
        "citing the version (`open_case` then routes its case to the named queue), `decide` decides those cases "
        "in one bulk job as you, with `bulkDecideCases`' checks per case and region (needs `cases:decide`), and "
        f"`label` labels each entity the matched events name (needs `rules:write`). At most {MAX_RETRO} subjects, "
        f"and {MAX_RETRO} entities per label; a backtest is applied once.",
    )
    async def retroact_rule(self, info: Info, input: RetroactRuleInput) -> RetroactRuleResult:
        context = info.context
        bulk = context.bulk_runner
        try:
            row = await readable_backtest(context, input.backtest_id, "backtestId")
            region = row["region"]
            if row["state"] != "COMPLETED":
                raise DomainError.invalid_state(f"the backtest is {row['state']}, not COMPLETED", "backtestId")
            if row["retroacted_at"] is not None or row["retro_job_id"] is not None:
                raise DomainError.conflict("this backtest was applied already", "backtestId")
            compiled = await store.compile_version(pool_of(context), row["rule_id"], row["rule_version"])
            actions = immediate(compiled.rule.actions)
            needed = _required(actions)
            for permission, what in needed:
                if not context.permissions.allows(permission, region):
                    raise DomainError.forbidden(f"you may not {what} in region {region}", "backtestId")
            active = await _active(context, row, needs_policy=needs_cases(actions))
            pool = pool_of(context)
            matched = tuple(await store.matched_subjects(pool, row["id"], MAX_RETRO + 1))
            check_limits(len(matched), 0)
            snoozed = snoozed_subjects(active, matched, await _snoozes(pool, region, matched))
            subjects = tuple(s for s in matched if s not in snoozed)
            kinds = sorted({label.entity_kind for label in labels_of(actions)})
            targets = await store.matched_events(pool, row["id"], kinds, MAX_RETRO + 1, skip=snoozed)
            check_limits(0, max(map(len, targets.values()), default=0))
            if snoozed and not subjects and not any(targets.values()):
                raise DomainError.invalid_state("every subject the backtest matched is snoozed now", "backtestId")
            if not needs_cases(actions) and not any(targets.values()):
                raise DomainError.invalid_state("the matched events name no entity to label", "backtestId")
        except DomainError as exc:
            return failed(context, exc)

        async def command(uow: PostgresUnitOfWork, actor: Any) -> RetroactRuleSuccess:
            from api.graphql.review.bulk import build_job  # another area: at call time, not when this one loads

            grant = Grant(
                principal_kind=context.principal.kind.value,
                decide_regions=frozen_regions(context.permissions.regions(Permission.CASES_DECIDE)),
                sanction_regions=frozen_regions(context.permissions.regions(Permission.ACCOUNTS_BAN)),
                request_id=context.request_id or None,
            )
            cmd = Retroaction(active, actions, subjects, row["id"], input.rationale)
            done = await retroact(uow, actor, cmd, grant, lease_owner=None if bulk is None else bulk.owner)
            writes = [
                (Accepted(stored.id, stored.event, duplicate=False), label)
                for label in labels_of(actions)
                for stored in targets[label.entity_kind]
            ]
            await write_labels(uow, active, writes, uow.clock.now())
            labelled = len(writes)
            job_id = None if done.job is None else done.job.id
            if not await store.mark_retroacted(uow, row["id"], region, job_id, cases=done.cases, labels=labelled):
                raise DomainError.conflict("this backtest was applied already", "backtestId")
            job = None if done.job is None else build_job(done.job)
            return RetroactRuleSuccess(job=job, cases=done.cases, labels=labelled, snoozed=len(snoozed))

        permission = Permission.CASES_DECIDE if decide_of(actions) is not None else Permission.RULES_WRITE
        result = await run(info, "retroactRule", permission, command, reason=input.rationale)
        if isinstance(result, RetroactRuleSuccess) and result.job is not None and bulk is not None:
            bulk.start(result.job.entity)
        return result


async def _snoozes(pool: Any, region: str, subjects: tuple[tuple[str, str], ...]) -> set[tuple[str, ...]]:
    """``snoozed_subjects``' answers for the subjects: those decided lately, those snoozed for a rule."""
    if not subjects:
        return set()
    wanted = [(region, kind, external_id) for kind, external_id in subjects]
    now = datetime.now(UTC)
    decided: set[tuple[str, ...]] = set(await rule_runtime.snoozed(pool, wanted, now))
    return decided | await rule_stats.rule_snoozed(pool, wanted, now)


async def _active(context: Context, row: Any, *, needs_policy: bool) -> ActiveRule:
    """The backtested version as the rule that acts (its actor cites the version), with the policy it cites."""
    async with context.sessions() as session:
        found = await rule_by_id(session, row["rule_id"])
    if found is None:
        raise DomainError.not_found("no such rule", "backtestId")
    rule, current = found
    policy = current.policy_id if current.number == row["rule_version"] else None
    if policy is None:
        policy = await store.version_policy(pool_of(context), row["rule_id"], row["rule_version"])
    if policy is None and needs_policy:
        raise DomainError.invalid_state("the rule version cites no policy", "backtestId")
    return ActiveRule(
        rule_id=row["rule_id"],
        version=row["rule_version"],
        region=row["region"],
        name=rule.name,
        state=RuleState.LIVE,
        policy_id=policy,
        daily_action_cap=None,
        expires_at=None,
    )
