"""Statement of reasons (EU DSA art. 17): what the affected user is told, in the field vocabulary of the DSA
Transparency Database submission API, built purely from a decision and what it applied."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.account import AccountKind
from domain.content import ContentKind
from domain.decision import Decision, Verdict
from domain.enforcement import ActionKind, EnforcementAction
from domain.policy import PolicyVersion
from domain.report import ReportSource
from domain.subject import SubjectKind

VISIBILITY = {
    ActionKind.REMOVE_CONTENT: "DECISION_VISIBILITY_CONTENT_REMOVED",
    ActionKind.AGE_RESTRICT: "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    ActionKind.LIMIT_DISTRIBUTION: "DECISION_VISIBILITY_CONTENT_DEMOTED",
    ActionKind.LABEL: "DECISION_VISIBILITY_CONTENT_LABELLED",
    ActionKind.REJECT_AD: "DECISION_VISIBILITY_CONTENT_DISABLED",
}
ACCOUNT = {
    ActionKind.SUSPEND_ACCOUNT: "DECISION_ACCOUNT_SUSPENDED",
    ActionKind.BAN_ACCOUNT: "DECISION_ACCOUNT_TERMINATED",
}
PROVISION = {
    ActionKind.RESTRICT_FEATURES: "DECISION_PROVISION_PARTIAL_SUSPENSION",
    ActionKind.HOLD_ADS: "DECISION_PROVISION_PARTIAL_SUSPENSION",
    ActionKind.SUSPEND_ACCOUNT: "DECISION_PROVISION_TOTAL_SUSPENSION",
    ActionKind.BAN_ACCOUNT: "DECISION_PROVISION_TOTAL_TERMINATION",
}
CONTENT_TYPE = {
    ContentKind.VIDEO: "CONTENT_TYPE_VIDEO",
    ContentKind.LIVESTREAM: "CONTENT_TYPE_VIDEO",
    ContentKind.IMAGE: "CONTENT_TYPE_IMAGE",
    ContentKind.POST: "CONTENT_TYPE_TEXT",
    ContentKind.COMMENT: "CONTENT_TYPE_TEXT",
    ContentKind.ARTICLE: "CONTENT_TYPE_TEXT",
}
SOURCE = {
    ReportSource.USER: "SOURCE_ARTICLE_16",
    ReportSource.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
    ReportSource.LEGAL: "SOURCE_TYPE_OTHER_NOTIFICATION",
    ReportSource.AUTOMATED: "SOURCE_VOLUNTARY",
    ReportSource.INTERNAL: "SOURCE_VOLUNTARY",
}
SOURCE_RANK = (ReportSource.TRUSTED_FLAGGER, ReportSource.LEGAL, ReportSource.USER, ReportSource.AUTOMATED)


def _date(value: datetime) -> str:
    return value.date().isoformat()


def statement_of_reasons(
    decision: Decision,
    *,
    version: PolicyVersion | None,
    actions: Iterable[EnforcementAction],
    content_kind: ContentKind | None,
    account_kind: AccountKind | None,
    report_sources: Iterable[ReportSource],
    content_date: datetime | None = None,
) -> dict[str, object] | None:
    """The statement for a VIOLATING decision (None otherwise: nothing was restricted, nothing to explain)."""
    if decision.verdict is not Verdict.VIOLATING:
        return None
    kinds = [a.kind for a in actions if a.reversed_at is None]
    sources = set(report_sources)
    source = next((SOURCE[s] for s in SOURCE_RANK if s in sources), "SOURCE_VOLUNTARY")
    content_type = CONTENT_TYPE.get(content_kind, "CONTENT_TYPE_OTHER") if content_kind else "CONTENT_TYPE_OTHER"
    if decision.subject_kind is SubjectKind.AD:
        content_type = "CONTENT_TYPE_OTHER"
    statement: dict[str, object] = {
        "puid": str(decision.subject_id),
        "decision_visibility": sorted({VISIBILITY[k] for k in kinds if k in VISIBILITY}),
        "decision_provision": next((PROVISION[k] for k in kinds if k in PROVISION), None),
        "decision_account": next((ACCOUNT[k] for k in kinds if k in ACCOUNT), None),
        "account_type": "ACCOUNT_TYPE_BUSINESS" if account_kind is AccountKind.ADVERTISER else "ACCOUNT_TYPE_PRIVATE",
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": version.description if version else None,
        "incompatible_content_explanation": decision.rationale,
        "category": version.dsa_category if version else None,
        "content_type": [content_type],
        "content_date": _date(content_date) if content_date else None,
        "application_date": _date(decision.decided_at),
        "decision_facts": decision.rationale,
        "source_type": source,
        "automated_detection": "Yes" if ReportSource.AUTOMATED in sources else "No",
        "automated_decision": "AUTOMATED_DECISION_FULLY" if decision.automated else "AUTOMATED_DECISION_NOT_AUTOMATED",
        "territorial_scope": ["EU"] if decision.region.value == "EU" else [],
    }
    return {k: v for k, v in statement.items() if v not in (None, [])}
