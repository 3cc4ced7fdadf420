"""A LIVE rule's actions through the existing domain services, as the rule itself (an AUTOMATION actor whose id
cites the rule version: ``rule:<id>:v<n>``), so every report, case and decision it causes names that version.

``open_case``, ``hold`` and ``decide`` file an AUTOMATED report on the event's subject (intake opens or folds into
its case, which the region's routing queues for a human). ``open_case(queue=..., priority=...)`` then moves that
case to the named queue of the rule's region with at least that priority (``domain.services.queue.route_to_named``);
a queue gone since the rule was written (or of another surface) fails the action with the reason, the report
still filed. ``decide`` decides the case VIOLATING under the rule's policy as an automated decision when the rule
may (the same checks as automation rules: not escalated or held, actions valid, authority for them and the ladder
step), else leaves it to a human.

``enqueue_for_review`` is what a LIVE action withheld by a cap or circuit breaker becomes: the same report (and the
named queue of an ``open_case``), nothing automated.
"""

from __future__ import annotations

from typing import Final

from domain import seniority
from domain.account import Account
from domain.actor import Actor, ActorKind
from domain.ad import Ad
from domain.automation import decode_action
from domain.case import Case
from domain.config import DEFAULT_CONFIG
from domain.content import Content
from domain.decision import Verdict
from domain.enforcement import REQUIRED_CAPABILITY, RequestedAction, validate_requested
from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.region import Region
from domain.report import ReportSource
from domain.rules import Action, Decide, Delayed, Hold, OpenCase
from domain.services.case import get_case
from domain.services.decision import DecideCase, decide_case, ensure_not_ad_review
from domain.services.enforcement import ensure_may_enforce
from domain.services.events import Accepted
from domain.services.policy import policy_in_force
from domain.services.queue import route_to_named
from domain.services.report import SubmitReport, submit_report
from domain.services.rule_runs import ActionResult, ActiveRule, Outcome, action_kind
from domain.services.subject import load_subject
from domain.subject import SubjectKind

SUBJECT_KINDS: Final = {"content": SubjectKind.CONTENT, "account": SubjectKind.ACCOUNT, "ad": SubjectKind.AD}


def rule_actor(rule: ActiveRule, requested: tuple[RequestedAction, ...] = ()) -> Actor:
    needed = {REQUIRED_CAPABILITY[a.kind] for a in requested if a.kind in REQUIRED_CAPABILITY}
    return Actor(
        id=f"rule:{rule.rule_id}:v{rule.version}",
        kind=ActorKind.AUTOMATION,
        seniority=seniority.AUTOMATION,
        capabilities=frozenset((capability, Region(rule.region)) for capability in needed),
    )


async def _subject(
    uow: UnitOfWork, rule: ActiveRule, accepted: Accepted
) -> tuple[SubjectKind, Account | Content | Ad] | str:
    """The record of the event's subject, or why there is none to act on."""
    event = accepted.event
    if event.subject is None or event.subject[0] not in SUBJECT_KINDS or rule.policy_id is None:
        return "the event has no subject to act on"
    subject_kind = SUBJECT_KINDS[event.subject[0]]
    region, external_id = Region(event.region), event.subject[1]
    record: Account | Content | Ad | None
    if subject_kind is SubjectKind.CONTENT:
        record = await uow.contents.get_by_external_id(region, external_id)
    elif subject_kind is SubjectKind.ACCOUNT:
        record = await uow.accounts.get_by_external_id(region, external_id)
    else:
        record = await uow.ads.get_by_external_id(region, external_id)
    if record is None:
        return f"Vigil does not know this {event.subject[0]} yet"
    return subject_kind, record


async def _file(
    uow: UnitOfWork,
    rule: ActiveRule,
    accepted: Accepted,
    actor: Actor,
    subject: tuple[SubjectKind, Account | Content | Ad],
    text: str,
    key: str,
) -> Case:
    assert rule.policy_id is not None  # _subject checked it
    report = await submit_report(
        uow,
        actor,
        SubmitReport(
            subject_kind=subject[0],
            subject_id=subject[1].id,
            policy_id=rule.policy_id,
            source=ReportSource.AUTOMATED,
            text=text,
            idempotency_key=key,
        ),
    )
    return await get_case(uow, report.case_id)


async def _route(uow: UnitOfWork, case: Case, action: Action, kind: str) -> ActionResult | None:
    """An ``open_case``'s case moved to its named queue: None when done (or nothing to move), else FAILED."""
    if not isinstance(action, OpenCase):
        return None
    try:
        await route_to_named(uow, case, action.queue, action.priority)
    except DomainError as exc:
        return ActionResult(kind, Outcome.FAILED, f"{exc.message}; the report was filed in case {case.id}", case.id)
    return None


async def take_action(uow: UnitOfWork, rule: ActiveRule, accepted: Accepted, action: Action) -> ActionResult:
    """Open a case, hold or decide; a typed refusal of the domain becomes a FAILED result (nothing written)."""
    kind = action_kind(action)
    if isinstance(action, Delayed):
        return ActionResult(kind, Outcome.FAILED, "a delayed action is scheduled, then run when due")
    if not isinstance(action, OpenCase | Hold | Decide):
        return ActionResult(kind, Outcome.FAILED, "labels are written by the caller")
    subject = await _subject(uow, rule, accepted)
    if isinstance(subject, str):
        return ActionResult(kind, Outcome.FAILED, subject)
    event = accepted.event
    requested = tuple(decode_action(a) for a in action.actions) if isinstance(action, Decide) else ()
    actor = rule_actor(rule, requested)
    text = f"Rule {rule.name} (version {rule.version}) matched event {accepted.event_id} ({event.type})"
    case = await _file(uow, rule, accepted, actor, subject, text, f"rule:{rule.rule_id}:{accepted.event_id}:{kind}")
    if not isinstance(action, Decide):
        failed = await _route(uow, case, action, kind)
        return failed or ActionResult(kind, Outcome.TAKEN, f"case {case.id}")
    assert rule.policy_id is not None
    subject_kind, record = subject
    try:
        case.ensure_decidable_by(actor, uow.clock.now())
        validate_requested(requested, case.subject_kind)
        await ensure_not_ad_review(uow, case)
        cited = await policy_in_force(uow, rule.policy_id)
        loaded = await load_subject(uow, subject_kind, record.id)
        await ensure_may_enforce(uow, actor, loaded, cited, requested, DEFAULT_CONFIG)
    except DomainError as exc:
        return ActionResult(kind, Outcome.WITHHELD, f"left to a human in case {case.id}: {exc.message}")
    rationale = f"Automated: rule {rule.name} (version {rule.version}) matched event {accepted.event_id}."
    decided = await decide_case(
        uow,
        actor,
        DecideCase(
            case_id=case.id, verdict=Verdict.VIOLATING, policy_id=rule.policy_id, rationale=rationale, actions=requested
        ),
    )
    return ActionResult(kind, Outcome.TAKEN, f"decision {decided.decision.id}")


async def enqueue_for_review(
    uow: UnitOfWork, rule: ActiveRule, accepted: Accepted, action: Action, reason: str
) -> ActionResult:
    """A withheld action (``reason``: daily cap, circuit breaker) put before a human instead: an AUTOMATED report on
    the event's subject opens or joins its case (moved to the named queue of an ``open_case``); no decision, no
    label. WITHHELD with the reason and the case, or FAILED when there is no subject to report."""
    kind = action_kind(action)
    inner = action.action if isinstance(action, Delayed) else action
    subject = await _subject(uow, rule, accepted)
    if isinstance(subject, str):
        return ActionResult(kind, Outcome.FAILED, f"{reason}; not enqueued: {subject}")
    text = (
        f"Rule {rule.name} (version {rule.version}) matched event {accepted.event_id} ({accepted.event.type}); "
        f"its {kind} was withheld ({reason}): for review"
    )
    key = f"rule:{rule.rule_id}:{accepted.event_id}:{kind}:review"
    case = await _file(uow, rule, accepted, rule_actor(rule), subject, text, key)
    failed = await _route(uow, case, inner, kind)
    if failed is not None:
        return ActionResult(kind, Outcome.WITHHELD, f"{reason}; enqueued in case {case.id} ({failed.reason})", case.id)
    return ActionResult(kind, Outcome.WITHHELD, reason, case.id)
