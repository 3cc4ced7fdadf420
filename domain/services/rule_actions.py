"""A LIVE rule's actions through the existing domain services, as the rule itself (an AUTOMATION actor whose id
cites the rule version: ``rule:<id>:v<n>``), so every report, case and decision it causes names that version.

``open_case`` and ``hold`` file an AUTOMATED report on the event's subject (intake opens or folds into its case, which
the region's routing queues for a human); ``decide`` files the report and, when the rule may decide the case
(the same checks as automation rules: not escalated or held, actions valid, authority for them and the ladder step),
decides it VIOLATING under the rule's policy as an automated decision, else leaves it to a human.
"""

from __future__ import annotations

from typing import Final

from domain import seniority
from domain.account import Account
from domain.actor import Actor, ActorKind
from domain.ad import Ad
from domain.automation import decode_action
from domain.config import DEFAULT_CONFIG
from domain.content import Content
from domain.decision import Verdict
from domain.enforcement import REQUIRED_CAPABILITY, RequestedAction, validate_requested
from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.region import Region
from domain.report import ReportSource
from domain.rules import Action, Decide, Hold, OpenCase
from domain.services.case import get_case
from domain.services.decision import DecideCase, decide_case, ensure_not_ad_review
from domain.services.enforcement import ensure_may_enforce
from domain.services.events import Accepted
from domain.services.policy import policy_in_force
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


async def take_action(uow: UnitOfWork, rule: ActiveRule, accepted: Accepted, action: Action) -> ActionResult:
    """Open a case, hold or decide; a typed refusal of the domain becomes a FAILED result (nothing written)."""
    kind = action_kind(action)
    if not isinstance(action, OpenCase | Hold | Decide):
        return ActionResult(kind, Outcome.WITHHELD, "not supported yet")
    event = accepted.event
    if event.subject is None or event.subject[0] not in SUBJECT_KINDS or rule.policy_id is None:
        return ActionResult(kind, Outcome.FAILED, "the event has no subject to act on")
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
        return ActionResult(kind, Outcome.FAILED, f"Vigil does not know this {event.subject[0]} yet")
    requested = tuple(decode_action(a) for a in action.actions) if isinstance(action, Decide) else ()
    actor = rule_actor(rule, requested)
    text = f"Rule {rule.name} (version {rule.version}) matched event {accepted.event_id} ({event.type})"
    report = await submit_report(
        uow,
        actor,
        SubmitReport(
            subject_kind=subject_kind,
            subject_id=record.id,
            policy_id=rule.policy_id,
            source=ReportSource.AUTOMATED,
            text=text,
            idempotency_key=f"rule:{rule.rule_id}:{accepted.event_id}:{kind}",
        ),
    )
    if not isinstance(action, Decide):
        return ActionResult(kind, Outcome.TAKEN, f"case {report.case_id}")
    case = await get_case(uow, report.case_id)
    try:
        case.ensure_decidable_by(actor, uow.clock.now())
        validate_requested(requested, case.subject_kind)
        await ensure_not_ad_review(uow, case)
        cited = await policy_in_force(uow, rule.policy_id)
        subject = await load_subject(uow, subject_kind, record.id)
        await ensure_may_enforce(uow, actor, subject, cited, requested, DEFAULT_CONFIG)
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
