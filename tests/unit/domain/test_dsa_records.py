"""The DSA records' own rules: an order's times, a dispute's closing, a month's figure, a rejected statement's
correction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.dsa.active_recipients import ActiveRecipients, month_start
from domain.dsa.authority_order import AuthorityOrder, OrderKind
from domain.dsa.out_of_court_dispute import DisputeOutcome, OutOfCourtDispute
from domain.dsa.statement import StatementOfReasons, SubmissionState
from domain.dsa.vocabulary import Category, Country
from domain.errors import DomainError, ErrorCode
from domain.region import Region

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _order(**kw: object) -> AuthorityOrder:
    given: dict[str, object] = {
        "region": Region.EU,
        "kind": OrderKind.ACT_AGAINST_ILLEGAL_CONTENT,
        "member_state": Country.DE,
        "authority": "BNetzA",
        "reference": None,
        "category": Category.STATEMENT_CATEGORY_SCAMS_AND_FRAUD,
        "case_id": None,
        "received_at": NOW - timedelta(days=2),
        "informed_at": None,
        "acted_at": None,
        "recorded_by": "staff:legal",
        "now": NOW,
    }
    return AuthorityOrder.record(**{**given, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"region": Region.US}, "region", ErrorCode.INVALID_INPUT),
        ({"authority": " "}, "authority", ErrorCode.INVALID_INPUT),
        ({"received_at": NOW + timedelta(hours=1)}, "receivedAt", ErrorCode.INVALID_INPUT),
        ({"received_at": datetime(2026, 5, 1)}, "receivedAt", ErrorCode.INVALID_INPUT),  # no offset, on purpose
        ({"informed_at": datetime(2026, 5, 31)}, "informedAt", ErrorCode.INVALID_INPUT),
        ({"acted_at": NOW - timedelta(days=3)}, "actedAt", ErrorCode.INVALID_INPUT),
    ],
)
def test_an_order_keeps_its_times_in_order(change: dict[str, object], field: str, code: ErrorCode) -> None:
    with pytest.raises(DomainError) as refused:
        _order(**change)
    assert (refused.value.field, refused.value.code) == (field, code)


def test_an_order_is_settled_once() -> None:
    order = _order(informed_at=NOW - timedelta(days=1))
    assert order.category == "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    order.settle(informed_at=None, acted_at=NOW, now=NOW)
    assert (order.informed_at, order.acted_at) == (NOW - timedelta(days=1), NOW)
    with pytest.raises(DomainError, match="already recorded"):
        order.settle(informed_at=None, acted_at=NOW - timedelta(hours=1), now=NOW)


def test_a_dispute_closes_once_with_an_outcome() -> None:
    dispute = OutOfCourtDispute.record(
        region=Region.EU, decision_id=uuid.uuid4(), body="ODS", submitted_at=NOW - timedelta(days=5),
        recorded_by="staff:senior", decided_at=NOW - timedelta(days=6), now=NOW,
    )  # fmt: skip
    with pytest.raises(DomainError, match="other than PENDING"):
        dispute.close(DisputeOutcome.PENDING, NOW, False, NOW)
    with pytest.raises(DomainError, match="needs a UTC offset"):
        dispute.close(DisputeOutcome.SETTLED, datetime(2026, 5, 31), False, NOW)  # no offset, on purpose
    with pytest.raises(DomainError, match="before the dispute was submitted"):
        dispute.close(DisputeOutcome.SETTLED, NOW - timedelta(days=6), False, NOW)
    dispute.close(DisputeOutcome.FOR_RECIPIENT, NOW, True, NOW)
    with pytest.raises(DomainError, match="already closed"):
        dispute.close(DisputeOutcome.FOR_PROVIDER, NOW, False, NOW)


def test_a_months_figure_is_bounded_and_corrected() -> None:
    with pytest.raises(DomainError) as refused:
        month_start(2026, 13)
    assert refused.value.field == "month"
    figure = ActiveRecipients.record(
        region=Region.EU, month=month_start(2026, 5), member_state=Country.FR, recipients=10, recorded_by="p", now=NOW
    )
    figure.correct(12, "p2", NOW)
    assert (figure.recipients, figure.recorded_by) == (12, "p2")
    with pytest.raises(DomainError, match="has not begun"):
        ActiveRecipients.record(region=Region.EU, month=month_start(2026, 7), member_state=Country.FR,
                                recipients=1, recorded_by="p", now=NOW)  # fmt: skip


def _rejected() -> StatementOfReasons:
    fields = {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Hate speech",
        "incompatible_content_explanation": "Slur.",
        "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "content_type": ["CONTENT_TYPE_VIDEO"],
        "content_date": "2026-05-01",
        "application_date": "2026-05-02",
        "decision_facts": "Slur aimed at a group.",
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "territorial_scope": ["DE"],
        "puid": "vigil-1",
    }
    statement = StatementOfReasons(
        region=Region.EU, decision_id=uuid.uuid4(), puid="vigil-1", fields=fields, created_at=NOW, updated_at=NOW
    )
    statement.rejected(["decision_facts: personal data"], NOW)
    return statement


def test_a_rejected_statement_is_corrected_within_the_rules_and_queued_again() -> None:
    statement = _rejected()
    for corrections, message in (
        ({"category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}, "category cannot be corrected"),
        ({"puid": "other"}, "puid cannot be corrected"),
        ({"content_language": "XX"}, "content_language"),
        ({"decision_facts": None}, "decision_facts"),
    ):
        with pytest.raises(DomainError, match=message):
            statement.resend(corrections, NOW)
        assert statement.submission is SubmissionState.REJECTED
    statement.resend({"decision_facts": "Removed.", "category_specification": ["KEYWORD_HATE_SPEECH"]}, NOW)
    assert statement.submission is SubmissionState.PENDING
    assert statement.rejection == ()
    assert statement.fields["decision_facts"] == "Removed."
    assert statement.fields["category_specification"] == ["KEYWORD_HATE_SPEECH"]
    with pytest.raises(DomainError, match="only a REJECTED one"):
        statement.resend({}, NOW)
