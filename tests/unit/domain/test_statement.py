"""The statement of reasons speaks the DSA Transparency Database vocabulary."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.account import AccountKind
from domain.actor import ActorKind
from domain.content import ContentKind
from domain.decision import Decision, Verdict
from domain.enforcement import ActionKind, ActionSource, EnforcementAction
from domain.policy import PolicyVersion, Severity
from domain.region import Region
from domain.report import ReportSource
from domain.statement import statement_of_reasons
from domain.subject import SubjectKind

NOW = datetime(2026, 10, 5, 12, tzinfo=UTC)


def _decision(verdict: Verdict = Verdict.VIOLATING) -> Decision:
    return Decision(
        region=Region.EU,
        case_id=uuid.uuid4(),
        subject_kind=SubjectKind.CONTENT,
        subject_id=uuid.uuid4(),
        subject_account_id=uuid.uuid4(),
        verdict=verdict,
        policy_id=uuid.uuid4(),
        policy_version_id=uuid.uuid4(),
        rationale="Slur aimed at a protected group.",
        decider_id="m",
        decider_kind=ActorKind.STAFF,
        decider_seniority=2,
        decided_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def _action(decision: Decision, kind: ActionKind, reversed_at: datetime | None = None) -> EnforcementAction:
    return EnforcementAction(
        region=Region.EU,
        decision_id=decision.id,
        kind=kind,
        target_kind=SubjectKind.CONTENT,
        target_id=decision.subject_id,
        starts_at=NOW,
        reversed_at=reversed_at,
        source=ActionSource.DECISION,
        created_at=NOW,
        updated_at=NOW,
    )


VERSION = PolicyVersion(
    policy_id=uuid.uuid4(),
    number=2,
    severity=Severity.HIGH,
    dsa_category="STATEMENT_CATEGORY_X",
    description="Hate speech",
    published_at=NOW,
    published_by="p",
    created_at=NOW,
    updated_at=NOW,
)


def test_removal_flagged_by_a_trusted_flagger() -> None:
    decision = _decision()
    statement = statement_of_reasons(
        decision,
        version=VERSION,
        actions=[_action(decision, ActionKind.REMOVE_CONTENT), _action(decision, ActionKind.BAN_ACCOUNT, NOW)],
        content_kind=ContentKind.VIDEO,
        account_kind=AccountKind.CREATOR,
        report_sources=[ReportSource.USER, ReportSource.TRUSTED_FLAGGER],
    )
    assert statement == {
        "puid": str(decision.subject_id),
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "account_type": "ACCOUNT_TYPE_PRIVATE",
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Hate speech",
        "incompatible_content_explanation": "Slur aimed at a protected group.",
        "category": "STATEMENT_CATEGORY_X",
        "content_type": ["CONTENT_TYPE_VIDEO"],
        "application_date": "2026-10-05",
        "decision_facts": "Slur aimed at a protected group.",
        "source_type": "SOURCE_TRUSTED_FLAGGER",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "territorial_scope": ["EU"],
    }


def test_no_statement_for_a_not_violating_decision() -> None:
    no_statement = statement_of_reasons(
        _decision(Verdict.NOT_VIOLATING),
        version=VERSION,
        actions=[],
        content_kind=None,
        account_kind=None,
        report_sources=[],
    )
    assert no_statement is None
