"""Retroaction: a COMPLETED backtest's version applied to what it matched in the past, as a person asks for it.

Every action of the version is applied once, at once (a ``delay(...)`` is not waited for: the matches are past):

* ``open_case``, ``hold`` and ``decide`` file one AUTOMATED report per matched subject (kind and platform id),
  citing the version, which opens or joins the subject's case; ``open_case`` then moves that case to its named
  queue with at least its priority (a queue gone since the rule was written fails the whole run: nothing is
  written);
* ``decide`` then decides those cases in one bulk job as the caller (``bulkDecideCases``: each case in its own
  region's permissions, failing alone);
* ``label`` labels the entities of that kind named by the matched events (the caller's persistence writes them),
  expiring the label's duration after the run.

A matched subject a LIVE run would leave alone now is left alone (``snoozed_subjects``): one a person decided in the
last days (a second decision would enforce twice), or one snoozed for this rule; so are the labels of its hits.

The caller needs the permission to act: ``cases:decide`` in the rule's region for a ``decide``, ``rules:write``
there for the other actions (they are the rule's own, as a LIVE switch would take them).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final

from domain import limits
from domain.account import Account
from domain.actor import Actor
from domain.ad import Ad
from domain.automation import decode_action
from domain.bulk import BulkJob
from domain.content import Content
from domain.decision import Verdict
from domain.errors import DomainError
from domain.ports import BulkUnitOfWork
from domain.region import Region
from domain.report import ReportSource
from domain.rules import Decide, Delayed, Hold, Label, OpenCase
from domain.rules.actions import Action, Immediate
from domain.services.bulk import Grant, SubmitBulkDecide, submit_bulk_decide
from domain.services.case import get_case
from domain.services.queue import route_to_named
from domain.services.report import SubmitReport, submit_report
from domain.services.rule_actions import SUBJECT_KINDS, rule_actor
from domain.services.rule_runs import ActiveRule
from domain.subject import SubjectKind

MAX_RETRO: Final = 1_000
"""Subjects a retroactive run reports on, and entities it labels per label action, at most."""


def immediate(actions: tuple[Action, ...]) -> tuple[Immediate, ...]:
    """A version's actions as a retroactive run takes them: each delayed one at once."""
    return tuple(a.action if isinstance(a, Delayed) else a for a in actions)


def needs_cases(actions: tuple[Immediate, ...]) -> bool:
    """Whether the actions report on the matched subjects (``open_case``, ``hold`` or ``decide``)."""
    return any(isinstance(a, OpenCase | Hold | Decide) for a in actions)


def decide_of(actions: tuple[Immediate, ...]) -> Decide | None:
    return next((a for a in actions if isinstance(a, Decide)), None)


def labels_of(actions: tuple[Immediate, ...]) -> tuple[Label, ...]:
    return tuple(a for a in actions if isinstance(a, Label))


@dataclass(frozen=True)
class Retroaction:
    """Apply a backtested version's ``actions`` (``immediate``) to the ``subjects`` it matched."""

    rule: ActiveRule
    actions: tuple[Immediate, ...]
    subjects: tuple[tuple[str, str], ...]
    backtest_id: uuid.UUID
    rationale: str


@dataclass(frozen=True)
class Retroacted:
    job: BulkJob | None
    """The bulk job deciding the cases (a version that decides), else None."""
    cases: int
    """Cases the run reported on (one per matched subject Vigil knows)."""


def snoozed_subjects(
    rule: ActiveRule, subjects: tuple[tuple[str, str], ...], found: set[tuple[str, ...]]
) -> frozenset[tuple[str, str]]:
    """The subjects a LIVE run would leave alone now: ``found`` holds (region, kind, id) of subjects a person decided
    lately and (rule id, region, kind, id) of those snoozed for a rule, as ``RunPorts.snoozed`` answers."""
    region, rule_id = rule.region, str(rule.rule_id)
    return frozenset(s for s in subjects if (region, *s) in found or (rule_id, region, *s) in found)


def check_limits(subjects: int, entities: int) -> None:
    """Refuse a run past ``MAX_RETRO`` subjects, or entities for one label (``INVALID_INPUT``)."""
    if subjects > MAX_RETRO:
        raise DomainError.invalid_input(f"a retroactive run acts on at most {MAX_RETRO} subjects", "backtestId")
    if entities > MAX_RETRO:
        raise DomainError.invalid_input(f"a retroactive run labels at most {MAX_RETRO} entities each", "backtestId")


async def retroact(
    uow: BulkUnitOfWork, actor: Actor, cmd: Retroaction, grant: Grant, *, lease_owner: str | None
) -> Retroacted:
    """The reports, routes and bulk decision of the run (its labels are the caller's to write beside them)."""
    limits.text(cmd.rationale, field="rationale", max_len=limits.RATIONALE_MAX)
    if not needs_cases(cmd.actions):
        return Retroacted(None, 0)
    if cmd.rule.policy_id is None:
        raise DomainError.invalid_state("the rule version cites no policy", "backtestId")
    if not cmd.subjects:
        raise DomainError.invalid_state("the backtest matched no subject to act on", "backtestId")
    check_limits(len(cmd.subjects), 0)
    decide = decide_of(cmd.actions)
    requested = tuple(decode_action(a) for a in decide.actions) if decide is not None else ()
    reporter = rule_actor(cmd.rule, requested)
    region = Region(cmd.rule.region)
    case_ids: list[uuid.UUID] = []
    for kind, external_id in cmd.subjects:
        subject_kind = SUBJECT_KINDS.get(kind)
        if subject_kind is None:
            continue
        record = await _record(uow, subject_kind, region, external_id)
        if record is None:
            continue  # Vigil never heard of it: nothing to report on
        report = await submit_report(
            uow,
            reporter,
            SubmitReport(
                subject_kind=subject_kind,
                subject_id=record.id,
                policy_id=cmd.rule.policy_id,
                source=ReportSource.AUTOMATED,
                text=f"Rule {cmd.rule.name} (version {cmd.rule.version}) matched in backtest {cmd.backtest_id}",
                idempotency_key=f"retro:{cmd.backtest_id}:{kind}:{external_id}"[:200],
            ),
        )
        if report.case_id not in case_ids:
            case_ids.append(report.case_id)
    if not case_ids:
        raise DomainError.invalid_state("none of the matched subjects is known to Vigil", "backtestId")
    for action in cmd.actions:
        if isinstance(action, OpenCase):
            for case_id in case_ids:
                await route_to_named(uow, await get_case(uow, case_id), action.queue, action.priority)
    if decide is None:
        return Retroacted(None, len(case_ids))
    job = await submit_bulk_decide(
        uow,
        actor,
        SubmitBulkDecide(
            case_ids=tuple(case_ids),
            verdict=Verdict.VIOLATING,
            policy_id=cmd.rule.policy_id,
            rationale=f"Retroactive: rule {cmd.rule.name} (version {cmd.rule.version}), backtest {cmd.backtest_id}. "
            f"{cmd.rationale}",
            actions=requested,
        ),
        grant,
        lease_owner=lease_owner,
    )
    return Retroacted(job, len(case_ids))


async def _record(
    uow: BulkUnitOfWork, kind: SubjectKind, region: Region, external_id: str
) -> Account | Content | Ad | None:
    if kind is SubjectKind.CONTENT:
        return await uow.contents.get_by_external_id(region, external_id)
    if kind is SubjectKind.ACCOUNT:
        return await uow.accounts.get_by_external_id(region, external_id)
    return await uow.ads.get_by_external_id(region, external_id)
