"""The event catalogue: which changes are events, and payloads shaped as the catalogue's examples say."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from domain.actor import ActorKind
from domain.ad import Ad, AdReviewStatus
from domain.appeal import Appeal, AppealState
from domain.case import Case, CaseState
from domain.decision import Decision, Verdict
from domain.dsa.statement import StatementOfReasons
from domain.enforcement import ActionKind, EnforcementAction
from domain.outbox.events import CATALOGUE, EVENT_TYPES, DomainEvent, events_of
from domain.region import Region
from domain.subject import SubjectKind, Surface

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
IDS = [uuid.uuid4() for _ in range(6)]


def _case() -> Case:
    return Case(
        region=Region.EU,
        subject_kind=SubjectKind.CONTENT,
        subject_id=IDS[0],
        subject_account_id=IDS[1],
        surface=Surface.CONTENT,
        sla_due_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def _decision() -> Decision:
    return Decision(
        region=Region.EU,
        case_id=IDS[2],
        subject_kind=SubjectKind.CONTENT,
        subject_id=IDS[0],
        subject_account_id=IDS[1],
        verdict=Verdict.VIOLATING,
        policy_id=IDS[3],
        policy_version_id=IDS[4],
        rationale="not in any payload",
        decider_id="moderator-EU",
        decider_kind=ActorKind.STAFF,
        decider_seniority=1,
        decided_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def _action() -> EnforcementAction:
    return EnforcementAction(
        region=Region.EU,
        decision_id=IDS[2],
        kind=ActionKind.REMOVE_CONTENT,
        target_kind=SubjectKind.CONTENT,
        target_id=IDS[0],
        starts_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def _appeal() -> Appeal:
    return Appeal(
        region=Region.EU,
        decision_id=IDS[2],
        appellant_account_id=IDS[1],
        statement="private words",
        filed_by="platform",
        filed_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def _ad() -> Ad:
    return Ad(
        region=Region.EU,
        advertiser_account_id=IDS[1],
        external_id="ad",
        headline="h",
        body="b",
        landing_url="https://example.com",
        created_at=NOW,
        updated_at=NOW,
    )


def _changed(entity: object, **values: object) -> tuple[object, dict[str, object]]:
    before = {k: getattr(entity, k) for k in values}
    for k, v in values.items():
        setattr(entity, k, v)
    return entity, before


def every_kind_of_event() -> list[DomainEvent]:
    return [
        *events_of(_case(), None, NOW),
        *events_of(*_changed(_case(), state=CaseState.ASSIGNED), NOW),
        *events_of(*_changed(_case(), state=CaseState.DECIDED), NOW),  # and the reporters' notices are due
        *events_of(_decision(), None, NOW),
        *events_of(*_changed(_decision(), overturned_at=NOW), NOW),
        *events_of(_action(), None, NOW),
        *events_of(*_changed(_action(), reversed_at=NOW), NOW),
        *events_of(*_changed(_appeal(), state=AppealState.OVERTURNED), NOW),
        *events_of(*_changed(_ad(), review_status=AdReviewStatus.REJECTED), NOW),
        *events_of(_statement(), None, NOW),
    ]


def _statement() -> StatementOfReasons:
    return StatementOfReasons(
        region=Region.EU, decision_id=IDS[5], puid="vigil-x", fields={"statement": "not in any payload"},
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def test_a_decided_case_owes_its_reporters_a_notice_and_a_statement_its_user_one() -> None:
    decided = events_of(*_changed(_case(), state=CaseState.DECIDED), NOW)
    assert [e.type for e in decided] == ["case.state_changed", "notice.reporters_due"]
    assert [e.type for e in events_of(*_changed(_case(), state=CaseState.ASSIGNED), NOW)] == ["case.state_changed"]
    (due,) = events_of(_statement(), None, NOW)
    assert (due.type, due.payload["decisionId"], due.payload["puid"]) == ("notice.user_due", str(IDS[5]), "vigil-x")
    assert events_of(*_changed(_statement(), submission="SUBMITTED"), NOW) == []  # submitting is no news


NOT_FROM_ENTITIES = {"rule.alarm"}
"""Catalogued types no entity change emits (so ``events_of`` never does): ``rule.alarm`` is raised by the alarm
watcher (persistence/rule_alarms.py) over hit rates; tests/integration/rules/test_snooze_alarm.py reads its payload."""


def test_each_catalogued_type_has_a_payload_shaped_as_its_example() -> None:
    events = every_kind_of_event()
    assert {t.name for t in CATALOGUE} >= NOT_FROM_ENTITIES
    assert {e.type for e in events} == {t.name for t in CATALOGUE} - NOT_FROM_ENTITIES
    for event in events:
        assert set(event.payload) == set(EVENT_TYPES[event.type].example), event.type
        assert event.region == "EU"
        assert event.version == EVENT_TYPES[event.type].version


def test_payloads_hold_no_free_text() -> None:
    text = repr([e.payload for e in every_kind_of_event()])
    assert "not in any payload" not in text
    assert "private words" not in text
    assert "moderator-EU" not in text


def test_changes_that_are_not_facts_for_partners_emit_nothing() -> None:
    assert events_of(*_changed(_case(), priority=90, report_count=3), NOW) == []
    assert events_of(_appeal(), None, NOW) == []  # filing is not an outcome
    assert events_of(*_changed(_appeal(), assignee_id="moderator-EU"), NOW) == []
    assert events_of(*_changed(_ad(), headline="new"), NOW) == []
    assert events_of(dataclasses.replace(_action()), {"updated_at": NOW}, NOW) == []


def test_each_event_gets_its_own_id_and_the_subject_it_is_about() -> None:
    events = every_kind_of_event()
    assert len({e.id for e in events}) == len(events)
    applied = next(e for e in events if e.type == "enforcement.applied")
    assert (applied.subject_kind, applied.subject_id) == ("CONTENT", IDS[0])
    decided = next(e for e in events if e.type == "appeal.decided")
    assert (decided.subject_kind, decided.subject_id) == ("ACCOUNT", IDS[1])
