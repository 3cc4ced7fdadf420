"""Notices the platform delivers (EU DSA): the affected user's statement of reasons (art. 17: what was restricted,
why, under which rule and ground, how to contest it and by when) and the reporter's outcome notice (art. 16(5)).

Rendered from the templates of ``domain.dsa.notice_templates`` in the asked language, else the first supported one
of the fallbacks, else English. They carry no moderator identity and no personal data of anyone else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.decision import Decision, Verdict
from domain.dsa.notice_templates import FALLBACK, TEMPLATES
from domain.dsa.statement import restricts
from domain.dsa.vocabulary import DecisionGround, YesNo
from domain.enforcement import ActionKind, EnforcementAction
from domain.policy import Policy, PolicyVersion
from domain.report import Report, ReportSource


@dataclass(frozen=True)
class Notice:
    language: str
    subject: str
    body: str


def pick_language(*preferred: str | None) -> str:
    """The first supported language among ``preferred`` (BCP 47 tags: ``de-AT`` is German), else English."""
    for tag in preferred:
        base = (tag or "").split("-")[0].split("_")[0].lower()
        if base in TEMPLATES:
            return base
    return FALLBACK


def _measures(t: Mapping[str, str], actions: Iterable[EnforcementAction]) -> str:
    parts = []
    for action in sorted(actions, key=lambda a: (list(ActionKind).index(a.kind), a.starts_at)):
        if action.kind is ActionKind.WARN:
            parts.append(t["WARN"])
            continue
        until = t["until"].format(date=_day(t, action.ends_at)) if action.ends_at else t["indefinite"]
        parts.append(f"{t[action.kind.value]} ({until})")
    return "; ".join(parts) or t["no_measures"]


def _day(t: Mapping[str, str], when: datetime) -> str:
    return when.strftime(t["date"])


def _policy(policy: Policy) -> str:
    return f"{policy.name} ({policy.code})"


def affected_user_notice(
    decision: Decision,
    *,
    cited: tuple[Policy, PolicyVersion],
    actions: Iterable[EnforcementAction],
    statement: Mapping[str, Any] | None,
    appeal_window: timedelta,
    top_source: ReportSource | None,
    language: str,
) -> Notice | None:
    """The art. 17 statement for the owner of what a decision restricted (None: the decision restricted nothing)."""
    applied = list(actions)
    if not restricts(decision, applied):
        return None
    t = TEMPLATES[pick_language(language)]
    policy, version = cited
    fields = statement or {}
    illegal = fields.get("decision_ground") == DecisionGround.DECISION_GROUND_ILLEGAL_CONTENT.value
    detected = fields.get("automated_detection") == YesNo.YES.value or (
        not fields and (decision.automated or top_source is ReportSource.AUTOMATED)
    )
    thing = t[f"thing_{decision.subject_kind.value}"]
    body = t["user_body"].format(
        decided=_day(t, decision.decided_at),
        thing=thing,
        measures=_measures(t, applied),
        facts=decision.rationale,
        policy=_policy(policy),
        version=version.number,
        ground=t["ground_illegal" if illegal else "ground_incompatible"],
        detection=t["detected_automatically" if detected else "detected_by_notice"],
        deciding=t["decided_automatically" if decision.automated else "decided_by_person"],
        deadline=_day(t, decision.decided_at + appeal_window),
    )
    return Notice(pick_language(language), t["user_subject"].format(thing=thing), body)


def reporter_notice(
    report: Report,
    *,
    decision: Decision | None,
    policy: Policy | None,
    actions: Iterable[EnforcementAction],
    language: str | None,
) -> Notice | None:
    """The art. 16(5) notice telling a reporter what became of their notice (None until the case is decided)."""
    if decision is None or policy is None:
        return None
    t = TEMPLATES[pick_language(language)]
    if decision.verdict is Verdict.VIOLATING:
        outcome = t["outcome_violating"].format(measures=_measures(t, actions))
    else:
        outcome = t["outcome_not_violating"]
    body = t["reporter_body"].format(
        reported=_day(t, report.created_at),
        subject=t[f"subject_{report.subject_kind.value}"],
        policy=policy.name,
        decided=_day(t, decision.decided_at),
        outcome=outcome,
        deciding=t["decided_automatically" if decision.automated else "decided_by_person"],
    )
    return Notice(pick_language(language), t["reporter_subject"], body)
