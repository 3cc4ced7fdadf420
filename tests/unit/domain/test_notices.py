"""Notices: the affected user's statement (art. 17) and the reporter's outcome notice (art. 16(5)), per language."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain.actor import ActorKind
from domain.decision import Verdict
from domain.dsa.notices import affected_user_notice, pick_language, reporter_notice
from domain.enforcement import ActionKind
from domain.region import Region
from domain.report import Report, ReportSource
from domain.subject import SubjectKind
from tests.unit.domain.test_statement import NOW, POLICY, VERSION, _action, _decision

WINDOW = timedelta(days=180)


@pytest.mark.parametrize(
    ("asked", "expected"),
    [(["de"], "de"), (["de-AT"], "de"), (["DE_ch"], "de"), (["fr"], "en"), ([None, "de"], "de"), ([], "en")],
)
def test_language_falls_back_to_english(asked: list[str | None], expected: str) -> None:
    assert pick_language(*asked) == expected


def test_the_affected_user_is_told_what_why_and_how_to_appeal_by_when() -> None:
    decision = _decision()
    actions = [_action(decision, ActionKind.REMOVE_CONTENT), _action(decision, ActionKind.SUSPEND_ACCOUNT, days=7)]
    notice = affected_user_notice(
        decision,
        cited=(POLICY, VERSION),
        actions=actions,
        statement={"decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT", "automated_detection": "No"},
        appeal_window=WINDOW,
        top_source=ReportSource.USER,
        language="en",
    )
    assert notice is not None
    assert (notice.language, notice.subject) == ("en", "Why we restricted your content")
    body = notice.body
    assert "On 2026-10-05 we applied" in body
    assert "removal of the content (without end date); suspension of the account (until 2026-10-12)" in body
    assert "Slur aimed at a protected group." in body
    assert "Hate speech (HATE_SPEECH) (version 2)" in body
    assert "incompatible with our terms and conditions" in body
    assert "taken by a person" in body
    assert "until 2027-04-03" in body  # decided + 180 days: the appeal deadline
    assert "Article 21" in body


def test_the_german_notice_and_an_automated_decision() -> None:
    decision = _decision()
    decision.automated = True
    notice = affected_user_notice(
        decision,
        cited=(POLICY, VERSION),
        actions=[_action(decision, ActionKind.REMOVE_CONTENT)],
        statement=None,
        appeal_window=WINDOW,
        top_source=ReportSource.AUTOMATED,
        language="de-DE",
    )
    assert notice is not None
    assert (notice.language, notice.subject) == ("de", "Warum wir Ihr Inhalt eingeschränkt haben")
    assert "Am 05.10.2026" in notice.body
    assert "Entfernung des Inhalts (unbefristet)" in notice.body
    assert "automatisierten Mitteln erkannt" in notice.body
    assert "automatisiert getroffen" in notice.body
    assert "bis zum 03.04.2027" in notice.body


def test_no_notice_when_nothing_was_restricted() -> None:
    decision = _decision(Verdict.NOT_VIOLATING)
    assert (
        affected_user_notice(
            decision,
            cited=(POLICY, VERSION),
            actions=[],
            statement=None,
            appeal_window=WINDOW,
            top_source=None,
            language="en",
        )
        is None
    )


def _report() -> Report:
    return Report(
        region=Region.EU,
        subject_kind=SubjectKind.CONTENT,
        subject_id=uuid.uuid4(),
        source=ReportSource.TRUSTED_FLAGGER,
        reporter_id="partner:flagger",
        reporter_kind=ActorKind.TOKEN,
        policy_id=POLICY.id,
        case_id=uuid.uuid4(),
        created_at=NOW - timedelta(days=2),
        updated_at=NOW,
    )


def test_the_reporter_learns_the_outcome() -> None:
    decision = _decision()
    notice = reporter_notice(
        _report(), decision=decision, policy=POLICY, actions=[_action(decision, ActionKind.LABEL)], language=None
    )
    assert notice is not None
    assert notice.subject == "What became of your notice"
    assert (
        "You notified us on 2026-10-03 about a piece of content under our rule \u201cHate speech\u201d" in notice.body
    )
    assert (
        "it breaks our rules, and we applied these measures: a label on the content (without end date)." in notice.body
    )
    rejected = reporter_notice(
        _report(), decision=_decision(Verdict.NOT_VIOLATING), policy=POLICY, actions=[], language="de"
    )
    assert rejected is not None
    assert "Es verstößt nicht gegen unsere Regeln" in rejected.body


def test_no_outcome_before_the_decision() -> None:
    assert reporter_notice(_report(), decision=None, policy=POLICY, actions=[], language="en") is None
