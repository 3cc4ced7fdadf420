"""Vigil's own intake as events for the rules: a classifier signal becomes one ``signal.submitted`` event per score
(its subject and the subject's owner by their platform ids, the classifier, the policy code, the score, and the
score as the event's own signal), a report one ``content.reported`` / ``account.reported`` / ``ad.reported``
event; evaluated like a platform's events. Not stored in the event log: intake stores what it received itself."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from domain.account import Account
from domain.ad import Ad
from domain.content import Content
from domain.ports import UnitOfWork
from domain.report import Report
from domain.rules import Event
from domain.services.automation import SubmitSignal
from domain.services.events import Accepted
from domain.services.rules import REPORT_EVENT_TYPES
from domain.subject import SubjectKind

SIGNAL_EVENTS = uuid.UUID("5a3c1f0e-6d2b-4e8a-9f47-2b1c9d0e7a61")
"""The namespace of the event ids of signals with an idempotency key."""


async def signal_events(
    uow: UnitOfWork, cmd: SubmitSignal, now: datetime, submitter_id: str | None = None
) -> list[Accepted]:
    """The events of a signal intake accepted (call after ``submit_signal`` succeeded, in its unit of work). A
    signal with an idempotency key gives each score's event an id (and key) derived from the submitter, the key and
    the policy, so a retry meets the rules as the same event: a rule's report on it is not filed twice (its key is
    ``rule:<id>:<event>:<kind>``) and its subject is not decided twice."""
    found = await _subject_and_owner(uow, cmd.subject_kind, cmd.subject_id)
    if found is None:
        return []
    record, owner = found
    entities = {cmd.subject_kind.value.lower(): record.external_id, "account": owner.external_id}
    events = []
    for policy_id, score in cmd.scores:
        policy = await uow.policies.get(policy_id)
        if policy is None:
            continue
        attributes = {"classifier": cmd.classifier, "policy_code": policy.code, "score": score}
        if cmd.idempotency_key is not None and submitter_id is not None:
            event_id = uuid.uuid5(SIGNAL_EVENTS, f"{submitter_id}\n{cmd.idempotency_key}\n{policy_id}")
        else:
            event_id = uuid.uuid4()
        event = Event(
            type="signal.submitted",
            region=record.region.value,
            entities=MappingProxyType(entities),
            attributes=MappingProxyType(attributes),
            occurred_at=now,
            idempotency_key=f"signal:{event_id.hex}",
            signals=MappingProxyType({cmd.classifier: score}),
        )
        events.append(Accepted(event_id, event, duplicate=False))
    return events


async def _subject_and_owner(
    uow: UnitOfWork, kind: SubjectKind, subject_id: uuid.UUID
) -> tuple[Account | Content | Ad, Account] | None:
    """A subject and the account that owns it (an account owns itself), as the unit of work sees them."""
    record: Account | Content | Ad | None
    if kind is SubjectKind.CONTENT:
        record = await uow.contents.get(subject_id)
        owner_id = record.owner_account_id if record is not None else None
    elif kind is SubjectKind.AD:
        record = await uow.ads.get(subject_id)
        owner_id = record.advertiser_account_id if record is not None else None
    else:
        record = await uow.accounts.get(subject_id)
        owner_id = record.id if record is not None else None
    owner = await uow.accounts.get(owner_id) if owner_id is not None else None
    if record is None or owner is None:
        return None
    return record, owner


async def filed_report_events(uow: UnitOfWork, reports: Sequence[Report]) -> list[Accepted]:
    """The events of reports a unit of work filed (call in it, after ``submit_report(s)``), from what it holds: the
    subjects and policies it loaded to file them and the subjects' owners (report intake's prefetch reads those
    when the reports' regions have rules: ``IntakeReads.rule_regions``). A report whose subject, owner or policy
    it cannot see has no event."""
    ids: dict[uuid.UUID, tuple[str, str]] = {}
    codes: dict[uuid.UUID, str] = {}
    for report in reports:
        if report.subject_id not in ids:
            found = await _subject_and_owner(uow, report.subject_kind, report.subject_id)
            if found is not None:
                ids[report.subject_id] = (found[0].external_id, found[1].external_id)
        if report.policy_id not in codes:
            policy = await uow.policies.get(report.policy_id)
            if policy is not None:
                codes[report.policy_id] = policy.code
    return report_events(reports, ids, codes)


def report_events(
    reports: Sequence[Report],
    platform_ids: Mapping[uuid.UUID, tuple[str, str]],
    policy_codes: Mapping[uuid.UUID, str],
) -> list[Accepted]:
    """One ``<kind>.reported`` event per report (its subject and the subject's owner by their platform ids, the
    reporter, the source, the policy code), at the report's time; the event id is the report's."""
    events = []
    for report in reports:
        ids = platform_ids.get(report.subject_id)
        code = policy_codes.get(report.policy_id)
        if ids is None or code is None:
            continue
        kind = report.subject_kind.value.lower()
        entities = {kind: ids[0], "account": ids[1]}
        attributes = {"reporter": report.reporter_id, "source": report.source.value, "policy_code": code}
        event = Event(
            type=REPORT_EVENT_TYPES[kind],
            region=report.region.value,
            entities=MappingProxyType(entities),
            attributes=MappingProxyType(attributes),
            occurred_at=report.created_at,
            idempotency_key=f"report:{report.id}",
        )
        events.append(Accepted(report.id, event, duplicate=False))
    return events
