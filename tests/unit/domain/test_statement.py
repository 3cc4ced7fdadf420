"""Statements of reasons: the snapshot speaks the DSA Transparency Database vocabulary and passes its rules, field
by field (the conditional rules included)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.account import AccountKind
from domain.actor import ActorKind
from domain.content import ContentKind
from domain.decision import Decision, Verdict
from domain.dsa.statement import SubjectFacts, statement_fields, take_statement
from domain.dsa.statement_rules import duplicate_puids, statement_errors
from domain.enforcement import TARGET_KIND, ActionKind, ActionSource, EnforcementAction
from domain.policy import Policy, PolicyVersion, Severity
from domain.region import Region
from domain.report import ReportSource
from domain.subject import SubjectKind, Surface

NOW = datetime(2026, 10, 5, 12, tzinfo=UTC)
EU_STATES = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
POLICY = Policy(code="HATE_SPEECH", name="Hate speech", surface=Surface.CONTENT, created_at=NOW, updated_at=NOW)
VERSION = PolicyVersion(
    policy_id=POLICY.id,
    number=2,
    severity=Severity.HIGH,
    dsa_category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    dsa_keywords=("KEYWORD_HATE_SPEECH",),
    guidelines_url="https://platform.example/guidelines#hate-speech",
    description="Hate speech.",
    published_at=NOW,
    published_by="p",
    created_at=NOW,
    updated_at=NOW,
)
VIDEO = SubjectFacts(SubjectKind.CONTENT, NOW - timedelta(days=3), ContentKind.VIDEO, "de-AT", AccountKind.CREATOR)


def _decision(
    verdict: Verdict = Verdict.VIOLATING, region: Region = Region.EU, kind: SubjectKind = SubjectKind.CONTENT
) -> Decision:
    return Decision(
        region=region,
        case_id=uuid.uuid4(),
        subject_kind=kind,
        subject_id=uuid.uuid4(),
        subject_account_id=uuid.uuid4(),
        verdict=verdict,
        policy_id=POLICY.id,
        policy_version_id=VERSION.id,
        rationale="Slur aimed at a protected group.",
        decider_id="m",
        decider_kind=ActorKind.STAFF,
        decider_seniority=2,
        decided_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def _action(decision: Decision, kind: ActionKind, days: int | None = None) -> EnforcementAction:
    return EnforcementAction(
        region=decision.region,
        decision_id=decision.id,
        kind=kind,
        target_kind=TARGET_KIND[kind],
        target_id=decision.subject_id,
        starts_at=NOW,
        ends_at=None if days is None else NOW + timedelta(days=days),
        source=ActionSource.DECISION,
        created_at=NOW,
        updated_at=NOW,
    )


def _statement(decision: Decision, *kinds: ActionKind, subject: SubjectFacts = VIDEO, **kw: Any) -> dict[str, Any]:
    taken = take_statement(
        decision,
        cited=(POLICY, VERSION),
        actions=[_action(decision, k) for k in kinds],
        subject=subject,
        top_source=kw.get("source", ReportSource.USER),
        keywords=kw.get("keywords", ()),
    )
    assert taken is not None
    return taken.fields


# -- the snapshot ---------------------------------------------------------------------------------------------


def test_removal_flagged_by_a_trusted_flagger() -> None:
    decision = _decision()
    fields = _statement(
        decision,
        ActionKind.REMOVE_CONTENT,
        ActionKind.WARN,
        source=ReportSource.TRUSTED_FLAGGER,
        keywords=("KEYWORD_HATE_SPEECH",),
    )
    puid = fields.pop("puid")
    assert puid.startswith("vigil-")
    assert fields == {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "account_type": "ACCOUNT_TYPE_PRIVATE",
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "decision_ground_reference_url": "https://platform.example/guidelines#hate-speech",
        "incompatible_content_ground": "Hate speech (HATE_SPEECH, version 2) of the community guidelines",
        "incompatible_content_explanation": "Hate speech. Slur aimed at a protected group.",
        "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "category_specification": ["KEYWORD_HATE_SPEECH"],
        "content_type": ["CONTENT_TYPE_VIDEO"],
        "content_language": "DE",
        "content_date": "2026-10-02",
        "application_date": "2026-10-05",
        "decision_facts": "Slur aimed at a protected group.",
        "source_type": "SOURCE_TRUSTED_FLAGGER",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "territorial_scope": [*EU_STATES, "IS", "LI", "NO"],
    }
    assert statement_errors({**fields, "puid": puid}) == {}


def test_an_automated_decision_on_a_classifier_signal_says_so() -> None:
    decision = _decision()
    decision.automated = True
    fields = _statement(decision, ActionKind.REMOVE_CONTENT, source=ReportSource.AUTOMATED)
    assert (fields["automated_detection"], fields["automated_decision"]) == ("Yes", "AUTOMATED_DECISION_FULLY")
    assert fields["source_type"] == "SOURCE_VOLUNTARY"
    assert statement_errors(fields) == {}


def test_a_manual_decision_on_a_classifier_signal_was_detected_automatically() -> None:
    fields = _statement(_decision(), ActionKind.LIMIT_DISTRIBUTION, source=ReportSource.AUTOMATED)
    assert (fields["automated_detection"], fields["automated_decision"]) == ("Yes", "AUTOMATED_DECISION_NOT_AUTOMATED")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (ReportSource.USER, "SOURCE_ARTICLE_16"),
        (ReportSource.TRUSTED_FLAGGER, "SOURCE_TRUSTED_FLAGGER"),
        (ReportSource.LEGAL, "SOURCE_TYPE_OTHER_NOTIFICATION"),
        (ReportSource.INTERNAL, "SOURCE_VOLUNTARY"),
        (None, "SOURCE_VOLUNTARY"),
    ],
)
def test_source_type_follows_the_most_trusted_notice(source: ReportSource | None, expected: str) -> None:
    fields = _statement(_decision(), ActionKind.LABEL, source=source)
    assert fields["source_type"] == expected
    assert "source_identity" not in fields  # never the notifier's identity: it may be personal data


def test_an_ad_rejection_names_its_type_and_date() -> None:
    decision = _decision(kind=SubjectKind.AD)
    ad = SubjectFacts(SubjectKind.AD, NOW - timedelta(days=1), None, "en", AccountKind.ADVERTISER)
    fields = _statement(decision, ActionKind.REJECT_AD, subject=ad)
    assert fields["content_type"] == ["CONTENT_TYPE_OTHER"]
    assert fields["content_type_other"] == "Advertisement"
    assert fields["content_date"] == "2026-10-04"
    assert fields["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert fields["account_type"] == "ACCOUNT_TYPE_BUSINESS"
    assert statement_errors(fields) == {}


def test_a_timed_account_suspension_ends() -> None:
    decision = _decision(kind=SubjectKind.ACCOUNT)
    account = SubjectFacts(SubjectKind.ACCOUNT, datetime(2024, 1, 1, tzinfo=UTC), None, None, AccountKind.USER)
    taken = take_statement(
        decision,
        cited=(POLICY, VERSION),
        actions=[
            _action(decision, ActionKind.SUSPEND_ACCOUNT, days=7),
            _action(decision, ActionKind.RESTRICT_FEATURES, days=30),
        ],
        subject=account,
        top_source=ReportSource.USER,
    )
    assert taken is not None
    fields = taken.fields
    assert fields["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert fields["end_date_account_restriction"] == "2026-10-12"
    assert fields["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
    assert fields["end_date_service_restriction"] == "2026-11-04"
    assert (fields["content_type_other"], fields["content_date"]) == ("User account", "2024-01-01")
    assert "decision_visibility" not in fields
    assert statement_errors(fields) == {}


def test_a_ban_outranks_a_suspension_and_is_indefinite() -> None:
    fields = _statement(_decision(), ActionKind.SUSPEND_ACCOUNT, ActionKind.BAN_ACCOUNT)
    assert fields["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert "end_date_account_restriction" not in fields


@pytest.mark.parametrize(
    ("verdict", "region", "kinds"),
    [
        (Verdict.NOT_VIOLATING, Region.EU, ()),
        (Verdict.VIOLATING, Region.EU, (ActionKind.WARN,)),  # a warning restricts nothing
        (Verdict.VIOLATING, Region.EU, ()),
        (Verdict.VIOLATING, Region.US, (ActionKind.REMOVE_CONTENT,)),  # outside the DSA's scope
    ],
)
def test_no_statement_when_nothing_in_scope_was_restricted(
    verdict: Verdict, region: Region, kinds: tuple[ActionKind, ...]
) -> None:
    decision = _decision(verdict, region)
    taken = take_statement(
        decision,
        cited=(POLICY, VERSION),
        actions=[_action(decision, k) for k in kinds],
        subject=VIDEO,
        top_source=None,
    )
    assert taken is None


def test_two_decisions_on_one_post_have_two_puids() -> None:
    first, second = _decision(), _decision()
    second.subject_id = first.subject_id
    a = _statement(first, ActionKind.REMOVE_CONTENT)
    b = _statement(second, ActionKind.REMOVE_CONTENT)
    assert a["puid"] != b["puid"]
    assert duplicate_puids([a, b]) == set()
    assert duplicate_puids([a, b, a]) == {a["puid"]}


def test_long_texts_are_clipped_to_the_database_limits() -> None:
    decision = _decision()
    decision.rationale = "x" * 6000
    fields = statement_fields(
        decision,
        cited=(POLICY, VERSION),
        actions=[_action(decision, ActionKind.LABEL)],
        subject=VIDEO,
        top_source=None,
        puid="p-1",
    )
    assert len(fields["decision_facts"]) == 5000
    assert len(fields["incompatible_content_explanation"]) == 2000
    assert statement_errors(fields) == {}


# -- the database's rules, field by field ----------------------------------------------------------------------

VALID: dict[str, Any] = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "incompatible_content_ground": "Terms 4.2",
    "incompatible_content_explanation": "Why.",
    "category": "STATEMENT_CATEGORY_VIOLENCE",
    "content_type": ["CONTENT_TYPE_TEXT"],
    "content_date": "2025-01-31",
    "application_date": "2025-02-01",
    "decision_facts": "Facts.",
    "source_type": "SOURCE_ARTICLE_16",
    "automated_detection": "No",
    "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
    "territorial_scope": ["DE", "NO"],
    "puid": "TK-421_a",
}


def _errors(**changes: Any) -> dict[str, list[str]]:
    statement = {**VALID, **changes}
    return statement_errors({k: v for k, v in statement.items() if v is not None})


def test_the_valid_statement_passes() -> None:
    assert _errors() == {}


@pytest.mark.parametrize(
    "name",
    [
        "decision_ground",
        "category",
        "content_type",
        "content_date",
        "application_date",
        "decision_facts",
        "source_type",
        "automated_detection",
        "automated_decision",
        "territorial_scope",
        "puid",
    ],
)
def test_required_fields(name: str) -> None:
    assert name in _errors(**{name: None})
    assert name in _errors(**{name: [] if isinstance(VALID[name], list) else ""})


@pytest.mark.parametrize(
    ("name", "bad", "good"),
    [
        ("decision_visibility", ["DECISION_VISIBILITY_HIDDEN"], ["DECISION_VISIBILITY_CONTENT_LABELLED"]),
        ("decision_monetary", "DECISION_MONETARY_FINE", "DECISION_MONETARY_SUSPENSION"),
        ("decision_provision", "DECISION_PROVISION_SOME", "DECISION_PROVISION_PARTIAL_TERMINATION"),
        ("decision_account", "DECISION_ACCOUNT_BANNED", "DECISION_ACCOUNT_TERMINATED"),
        ("account_type", "ACCOUNT_TYPE_CREATOR", "ACCOUNT_TYPE_BUSINESS"),
        ("decision_ground", "DECISION_GROUND_OTHER", "DECISION_GROUND_INCOMPATIBLE_CONTENT"),
        ("category", "STATEMENT_CATEGORY_UNSAFE_PRODUCTS", "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"),
        ("category", "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"),
        ("category_addition", ["STATEMENT_CATEGORY_X"], ["STATEMENT_CATEGORY_SELF_HARM"]),
        ("category_specification", ["KEYWORD_SPAM"], ["KEYWORD_PHISHING", "KEYWORD_OTHER"]),
        ("content_type", ["CONTENT_TYPE_GIF"], ["CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_AUDIO"]),
        ("content_type", "CONTENT_TYPE_TEXT", ["CONTENT_TYPE_TEXT"]),  # an array, not a string
        ("territorial_scope", ["EU"], ["AT", "BE", "IS", "LI"]),
        ("territorial_scope", ["GB"], ["GR"]),
        ("content_language", "XX", "EN"),
        ("content_language", "en", "SV"),
        ("source_type", "SOURCE_USER", "SOURCE_TYPE_OTHER_NOTIFICATION"),
        ("automated_detection", "yes", "Yes"),
        ("automated_decision", "No", "AUTOMATED_DECISION_NOT_AUTOMATED"),
        ("incompatible_content_illegal", "Maybe", "Yes"),
        ("decision_ground_reference_url", "not a url", "https://example.com/guidelines#hate"),
        ("content_id", {"ISBN": "123"}, {"EAN-13": "0123456789123"}),
        ("puid", "has space", "a-B_9"),
        ("puid", "x" * 501, "x" * 500),
    ],
)
def test_vocabulary_and_format_fields(name: str, bad: Any, good: Any) -> None:
    assert name in _errors(**{name: bad})
    assert _errors(**{name: good}) == {}


def test_at_least_one_restriction_is_required() -> None:
    errors = _errors(decision_visibility=None)
    assert set(errors) == {"decision_visibility", "decision_monetary", "decision_provision", "decision_account"}
    assert _errors(decision_visibility=None, decision_account="DECISION_ACCOUNT_SUSPENDED") == {}
    assert _errors(decision_visibility=None, decision_monetary="DECISION_MONETARY_TERMINATION") == {}
    assert _errors(decision_visibility=None, decision_provision="DECISION_PROVISION_TOTAL_SUSPENSION") == {}


def test_visibility_other_needs_its_explanation() -> None:
    other = ["DECISION_VISIBILITY_OTHER"]
    assert "decision_visibility_other" in _errors(decision_visibility=other)
    assert _errors(decision_visibility=other, decision_visibility_other="Hidden from search") == {}


def test_monetary_other_needs_its_explanation() -> None:
    assert "decision_monetary_other" in _errors(decision_monetary="DECISION_MONETARY_OTHER")
    assert _errors(decision_monetary="DECISION_MONETARY_OTHER", decision_monetary_other="Tips frozen") == {}


def test_content_type_other_needs_its_name() -> None:
    assert "content_type_other" in _errors(content_type=["CONTENT_TYPE_OTHER"])
    assert _errors(content_type=["CONTENT_TYPE_OTHER"], content_type_other="Advertisement") == {}


def test_the_ground_decides_which_explanations_are_required() -> None:
    illegal = _errors(decision_ground="DECISION_GROUND_ILLEGAL_CONTENT")
    assert {"illegal_content_legal_ground", "illegal_content_explanation"} <= set(illegal)
    assert (
        _errors(
            decision_ground="DECISION_GROUND_ILLEGAL_CONTENT",
            illegal_content_legal_ground="StGB §130",
            illegal_content_explanation="Incitement.",
        )
        == {}
    )
    incompatible = _errors(incompatible_content_ground=None, incompatible_content_explanation=None)
    assert set(incompatible) == {"incompatible_content_ground", "incompatible_content_explanation"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("content_date", "1999-12-31"),
        ("content_date", "2025-2-1"),
        ("content_date", "2025-02-30"),
        ("application_date", "2019-12-31"),
        ("application_date", "2038-01-02"),
        ("end_date_visibility_restriction", "2025-01-31"),  # before the application date
        ("end_date_account_restriction", "2038-01-02"),
        ("end_date_service_restriction", "01/03/2025"),
        ("end_date_monetary_restriction", "2025-01-01"),
    ],
)
def test_dates(name: str, value: str) -> None:
    assert name in _errors(**{name: value})


def test_end_dates_on_or_after_the_application_date_pass() -> None:
    assert _errors(end_date_visibility_restriction="2025-02-01", end_date_account_restriction="2037-12-31") == {}


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("decision_facts", 5000),
        ("incompatible_content_ground", 500),
        ("incompatible_content_explanation", 2000),
        ("source_identity", 500),
        ("category_specification_other", 500),
    ],
)
def test_text_limits(name: str, limit: int) -> None:
    assert _errors(**{name: "y" * limit}) == {}
    assert name in _errors(**{name: "y" * (limit + 1)})
