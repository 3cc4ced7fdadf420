"""Outbound events: the facts partners hear of, derived from the changes a unit of work commits.

Services emit nothing by hand. Every unit of work hands each inserted or changed entity to ``events_of`` (beside
its audit record), and this module is the one place that says which changes are events, of which type and
version, and what their payload holds: a service cannot forget to tell the platform.

A payload carries ids, states and times, never personal data (no emails, handles, texts or rationales): partners
read the rest through the API with their own permissions. ``CATALOGUE`` lists every type with an example payload;
the README's event catalogue is generated from it (``tools/event_catalogue.py``) and a test keeps both in step.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.ad import Ad
from domain.appeal import Appeal, AppealState
from domain.case import Case, CaseState
from domain.decision import Decision
from domain.dsa.statement import StatementOfReasons
from domain.enforcement import EnforcementAction


@dataclass(frozen=True)
class DomainEvent:
    type: str
    version: int
    region: str
    subject_kind: str
    subject_id: uuid.UUID
    occurred_at: datetime
    payload: dict[str, Any]
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    description: str
    example: dict[str, Any]


_ID = "00000000-0000-4000-8000-0000000000"
_T = "2026-11-29T12:00:00.000000+00:00"

CATALOGUE: tuple[EventType, ...] = (
    EventType(
        "case.opened",
        1,
        "A report opened a case on a subject (content, account or ad).",
        {"caseId": _ID + "01", "state": "OPEN", "surface": "CONTENT", "priority": 40, "queueId": _ID + "02"},
    ),
    EventType(
        "case.state_changed",
        1,
        "A case moved between OPEN, ASSIGNED, ESCALATED, DECIDED and CLOSED.",
        {"caseId": _ID + "01", "from": "ASSIGNED", "to": "DECIDED", "decisionId": _ID + "03"},
    ),
    EventType(
        "decision.made",
        1,
        "A moderator or an automation rule decided a case.",
        {
            "decisionId": _ID + "03",
            "caseId": _ID + "01",
            "accountId": _ID + "04",
            "verdict": "VIOLATING",
            "policyId": _ID + "05",
            "policyVersionId": _ID + "06",
            "automated": False,
            "decidedAt": _T,
        },
    ),
    EventType(
        "decision.overturned",
        1,
        "An appeal overturned a decision (its enforcement actions are reversed: see enforcement.reversed).",
        {"decisionId": _ID + "03", "caseId": _ID + "01", "accountId": _ID + "04", "overturnedAt": _T},
    ),
    EventType(
        "enforcement.applied",
        1,
        "An action to carry out: remove or restrict content, reject an ad, warn, suspend or ban an account.",
        {
            "actionId": _ID + "07",
            "decisionId": _ID + "03",
            "kind": "REMOVE_CONTENT",
            "targetKind": "CONTENT",
            "targetId": _ID + "08",
            "startsAt": _T,
            "endsAt": None,
            "source": "DECISION",
        },
    ),
    EventType(
        "enforcement.reversed",
        1,
        "An action is lifted (its decision was overturned): undo it.",
        {
            "actionId": _ID + "07",
            "decisionId": _ID + "03",
            "kind": "REMOVE_CONTENT",
            "targetKind": "CONTENT",
            "targetId": _ID + "08",
            "reversedAt": _T,
        },
    ),
    EventType(
        "appeal.decided",
        1,
        "An appeal was decided: UPHELD (the decision stands) or OVERTURNED.",
        {"appealId": _ID + "09", "decisionId": _ID + "03", "accountId": _ID + "04", "outcome": "OVERTURNED"},
    ),
    EventType(
        "notice.user_due",
        1,
        "An EU decision restricted something (it has a DSA statement of reasons): tell the affected user why "
        "(art. 17 DSA). The text, in their language, is `Decision.userNotice(language)`.",
        {"decisionId": _ID + "03", "statementId": _ID + "11", "puid": "vigil-" + _ID + "11"},
    ),
    EventType(
        "notice.reporters_due",
        1,
        "A case was decided: each of its reporters is owed the outcome of their notice (art. 16(5) DSA). The text, "
        "per report and language, is `Report.outcomeNotice(language)`.",
        {"caseId": _ID + "01", "decisionId": _ID + "03", "reportCount": 3},
    ),
    EventType(
        "ad.reviewed",
        1,
        "An ad's review status changed: APPROVED, APPROVED_RESTRICTED or REJECTED (or back to APPROVED).",
        {"adId": _ID + "10", "accountId": _ID + "04", "from": "PENDING_REVIEW", "to": "APPROVED"},
    ),
    EventType(
        "rule.alarm",
        1,
        "A rule's hits over the last hour jumped against its own hourly baseline (the 7 days before): at least 20 "
        "hits and 3 times the baseline. Once per rule and clock hour.",
        {"ruleId": _ID + "12", "ruleVersion": 3, "hitsLastHour": 240, "baselinePerHour": 12.5, "hour": _T},
    ),
)
EVENT_TYPES: dict[str, EventType] = {t.name: t for t in CATALOGUE}


def events_of(entity: Any, before: Mapping[str, Any] | None, now: datetime) -> list[DomainEvent]:
    """The events of one change: ``before`` is None for an inserted entity, else the changed fields' previous
    values (the entity holds the new ones)."""
    if isinstance(entity, Case):
        return _case(entity, before, now)
    if isinstance(entity, Decision):
        return _decision(entity, before, now)
    if isinstance(entity, EnforcementAction):
        return _action(entity, before, now)
    if isinstance(entity, Appeal):
        return _appeal(entity, before, now)
    if isinstance(entity, Ad):
        return _ad(entity, before, now)
    if isinstance(entity, StatementOfReasons) and before is None:
        payload = {"decisionId": entity.decision_id, "statementId": entity.id, "puid": entity.puid}
        return [_event("notice.user_due", entity, ("DECISION", entity.decision_id), now, payload)]
    return []


def _event(
    name: str, entity: Any, subject: tuple[Any, uuid.UUID], now: datetime, payload: dict[str, Any]
) -> DomainEvent:
    kind, subject_id = subject
    return DomainEvent(
        type=name,
        version=EVENT_TYPES[name].version,
        region=entity.region.value,
        subject_kind=str(getattr(kind, "value", kind)),
        subject_id=subject_id,
        occurred_at=now,
        payload={k: _plain(v) for k, v in payload.items()},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return getattr(value, "value", value)


def _case(case: Case, before: Mapping[str, Any] | None, now: datetime) -> list[DomainEvent]:
    subject = (case.subject_kind, case.subject_id)
    if before is None:
        payload = {
            "caseId": case.id,
            "state": case.state,
            "surface": case.surface,
            "priority": case.priority,
            "queueId": case.queue_id,
        }
        return [_event("case.opened", case, subject, now, payload)]
    if "state" not in before:
        return []
    payload = {"caseId": case.id, "from": before["state"], "to": case.state, "decisionId": case.decision_id}
    changed = [_event("case.state_changed", case, subject, now, payload)]
    if case.state is CaseState.DECIDED:
        due = {"caseId": case.id, "decisionId": case.decision_id, "reportCount": case.report_count}
        changed.append(_event("notice.reporters_due", case, subject, now, due))
    return changed


def _decision(decision: Decision, before: Mapping[str, Any] | None, now: datetime) -> list[DomainEvent]:
    subject = (decision.subject_kind, decision.subject_id)
    common = {"decisionId": decision.id, "caseId": decision.case_id, "accountId": decision.subject_account_id}
    if before is None:
        made = {
            "verdict": decision.verdict,
            "policyId": decision.policy_id,
            "policyVersionId": decision.policy_version_id,
            "automated": decision.automated,
            "decidedAt": decision.decided_at,
        }
        return [_event("decision.made", decision, subject, now, common | made)]
    if before.get("overturned_at", 0) is None and decision.overturned_at is not None:
        overturned = {"overturnedAt": decision.overturned_at}
        return [_event("decision.overturned", decision, subject, now, common | overturned)]
    return []


def _action(action: EnforcementAction, before: Mapping[str, Any] | None, now: datetime) -> list[DomainEvent]:
    subject = (action.target_kind, action.target_id)
    common = {
        "actionId": action.id,
        "decisionId": action.decision_id,
        "kind": action.kind,
        "targetKind": action.target_kind,
        "targetId": action.target_id,
    }
    if before is None:
        applied = {"startsAt": action.starts_at, "endsAt": action.ends_at, "source": action.source}
        return [_event("enforcement.applied", action, subject, now, common | applied)]
    if before.get("reversed_at", 0) is None and action.reversed_at is not None:
        return [_event("enforcement.reversed", action, subject, now, common | {"reversedAt": action.reversed_at})]
    return []


def _appeal(appeal: Appeal, before: Mapping[str, Any] | None, now: datetime) -> list[DomainEvent]:
    if before is None or "state" not in before or appeal.state is AppealState.PENDING:
        return []
    payload = {
        "appealId": appeal.id,
        "decisionId": appeal.decision_id,
        "accountId": appeal.appellant_account_id,
        "outcome": appeal.state,
    }
    return [_event("appeal.decided", appeal, ("ACCOUNT", appeal.appellant_account_id), now, payload)]


def _ad(ad: Ad, before: Mapping[str, Any] | None, now: datetime) -> list[DomainEvent]:
    if before is None or "review_status" not in before:
        return []
    payload = {"adId": ad.id, "accountId": ad.advertiser_account_id, "from": before["review_status"]}
    return [_event("ad.reviewed", ad, ("AD", ad.id), now, payload | {"to": ad.review_status})]
