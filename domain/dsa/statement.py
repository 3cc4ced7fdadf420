"""Statement of reasons (EU DSA art. 17, art. 24(5)): what the affected user is told and what the platform sends to
the DSA Transparency Database, in that database's field vocabulary (``domain.dsa.vocabulary``).

A statement is a snapshot taken when the decision is recorded (``StatementOfReasons``): later changes (an appeal
that reverses the actions, a new policy version, an edited post) never rewrite what was stated then. Every EU
decision that restricts something gets one; ``puid`` (the platform's unique id of the statement) is the
statement's own id, so two decisions on one post never share it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.account import AccountKind
from domain.content import ContentKind
from domain.decision import Decision, Verdict
from domain.dsa.statement_rules import statement_errors
from domain.dsa.vocabulary import (
    EEA,
    LANGUAGES,
    AccountType,
    AutomatedDecision,
    ContentType,
    DecisionAccount,
    DecisionGround,
    DecisionProvision,
    DecisionVisibility,
    SourceType,
    YesNo,
)
from domain.enforcement import ActionKind, EnforcementAction
from domain.errors import DomainError
from domain.policy import Policy, PolicyVersion
from domain.region import Region
from domain.report import ReportSource
from domain.subject import SubjectKind

VISIBILITY: dict[ActionKind, DecisionVisibility] = {
    ActionKind.REMOVE_CONTENT: DecisionVisibility.DECISION_VISIBILITY_CONTENT_REMOVED,
    ActionKind.AGE_RESTRICT: DecisionVisibility.DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED,
    ActionKind.LIMIT_DISTRIBUTION: DecisionVisibility.DECISION_VISIBILITY_CONTENT_DEMOTED,
    ActionKind.LABEL: DecisionVisibility.DECISION_VISIBILITY_CONTENT_LABELLED,
    ActionKind.REJECT_AD: DecisionVisibility.DECISION_VISIBILITY_CONTENT_DISABLED,
}
PROVISION: dict[ActionKind, DecisionProvision] = {
    ActionKind.RESTRICT_FEATURES: DecisionProvision.DECISION_PROVISION_PARTIAL_SUSPENSION,
    ActionKind.HOLD_ADS: DecisionProvision.DECISION_PROVISION_PARTIAL_SUSPENSION,
}
ACCOUNT: dict[ActionKind, DecisionAccount] = {
    ActionKind.SUSPEND_ACCOUNT: DecisionAccount.DECISION_ACCOUNT_SUSPENDED,
    ActionKind.BAN_ACCOUNT: DecisionAccount.DECISION_ACCOUNT_TERMINATED,
}
#: A WARN restricts nothing: a decision whose only action is a warning has no statement.
RESTRICTING: frozenset[ActionKind] = frozenset(VISIBILITY) | frozenset(PROVISION) | frozenset(ACCOUNT)
CONTENT_TYPE: dict[ContentKind, ContentType] = {
    ContentKind.VIDEO: ContentType.CONTENT_TYPE_VIDEO,
    ContentKind.LIVESTREAM: ContentType.CONTENT_TYPE_VIDEO,
    ContentKind.IMAGE: ContentType.CONTENT_TYPE_IMAGE,
    ContentKind.POST: ContentType.CONTENT_TYPE_TEXT,
    ContentKind.COMMENT: ContentType.CONTENT_TYPE_TEXT,
    ContentKind.ARTICLE: ContentType.CONTENT_TYPE_TEXT,
}
#: ``content_type_other`` for subjects that are not a post: the database has no type for them.
OTHER_TYPE: dict[SubjectKind, str] = {SubjectKind.AD: "Advertisement", SubjectKind.ACCOUNT: "User account"}
SOURCE: dict[ReportSource, SourceType] = {
    ReportSource.USER: SourceType.SOURCE_ARTICLE_16,
    ReportSource.TRUSTED_FLAGGER: SourceType.SOURCE_TRUSTED_FLAGGER,
    ReportSource.LEGAL: SourceType.SOURCE_TYPE_OTHER_NOTIFICATION,
    ReportSource.AUTOMATED: SourceType.SOURCE_VOLUNTARY,
    ReportSource.INTERNAL: SourceType.SOURCE_VOLUNTARY,
}
#: Vigil's data regions that are in the DSA's territorial scope, and the member states each covers.
SCOPE: dict[Region, tuple[str, ...]] = {Region.EU: tuple(c.value for c in EEA)}
#: What a correction may change in a REJECTED statement: how it is described, never what was decided (the
#: restrictions, their dates, the category, the source, automation, the scope) nor its puid.
CORRECTABLE: frozenset[str] = frozenset(
    {
        "category_specification",
        "category_specification_other",
        "content_language",
        "content_type_other",
        "decision_facts",
        "decision_ground_reference_url",
        "incompatible_content_ground",
        "incompatible_content_explanation",
        "account_type",
    }
)
BUSINESS_KINDS = frozenset({AccountKind.ADVERTISER, AccountKind.PUBLISHER})
AUTOMATED: dict[bool, str] = {
    True: AutomatedDecision.AUTOMATED_DECISION_FULLY.value,
    False: AutomatedDecision.AUTOMATED_DECISION_NOT_AUTOMATED.value,
}


class SubmissionState(StrEnum):
    PENDING = "PENDING"  # not sent yet (or sent in a batch that was refused whole for another statement)
    IN_FLIGHT = "IN_FLIGHT"  # in a batch being sent: reconciled by puid before anything is sent again
    SUBMITTED = "SUBMITTED"  # the database holds it (``database_id`` is its uuid there)
    REJECTED = "REJECTED"  # the database refused it (``rejection`` holds its reasons)


@dataclass(frozen=True)
class SubjectFacts:
    """What the statement says about the restricted thing, read from it when the decision is recorded."""

    kind: SubjectKind
    posted_at: datetime
    content_kind: ContentKind | None = None
    language: str | None = None
    owner_kind: AccountKind | None = None


@dataclass(kw_only=True)
class StatementOfReasons:
    """One per restricting EU decision. ``fields`` is the statement as the database takes it (JSON object).

    Only the submission fields ever change: ``submission`` moves PENDING → IN_FLIGHT (``batch_id``) → SUBMITTED
    (``database_id``) or REJECTED (``rejection``), or back to PENDING when a batch did not go through.
    """

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    decision_id: uuid.UUID
    puid: str
    fields: dict[str, Any]
    submission: SubmissionState = SubmissionState.PENDING
    batch_id: uuid.UUID | None = None
    database_id: str | None = None
    rejection: tuple[str, ...] = ()
    submitted_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def send_in(self, batch_id: uuid.UUID, now: datetime) -> None:
        if self.submission is not SubmissionState.PENDING:
            raise DomainError.invalid_state(f"statement is {self.submission.value}, not PENDING")
        self.submission, self.batch_id, self.updated_at = SubmissionState.IN_FLIGHT, batch_id, now

    def accepted(self, database_id: str, now: datetime) -> None:
        self.submission, self.database_id, self.rejection = SubmissionState.SUBMITTED, database_id, ()
        self.submitted_at = self.updated_at = now

    def rejected(self, reasons: Iterable[str], now: datetime) -> None:
        self.submission, self.rejection, self.updated_at = SubmissionState.REJECTED, tuple(reasons), now

    def not_sent(self, now: datetime) -> None:
        self.submission, self.batch_id, self.updated_at = SubmissionState.PENDING, None, now

    def resend(self, corrections: Mapping[str, Any], now: datetime) -> None:
        """Correct a REJECTED statement (field → new value; None removes an optional field) and make it PENDING
        again, under the same puid (the database stored nothing of it). Refused unless the corrected statement
        passes the database's rules; the rejection's reasons stay in the audit trail."""
        if self.submission is not SubmissionState.REJECTED:
            raise DomainError.invalid_state(f"statement is {self.submission.value}: only a REJECTED one is resent")
        unknown = sorted(set(corrections) - CORRECTABLE)
        if unknown:
            raise DomainError.invalid_input(f"{unknown[0]} cannot be corrected", "corrections")
        fields = {**self.fields, **corrections}
        fields = {k: v for k, v in fields.items() if v not in (None, [], "")}
        errors = statement_errors(fields)
        if errors:
            name, messages = next(iter(errors.items()))
            raise DomainError.invalid_input(f"{name}: {messages[0]}", "corrections")
        self.fields, self.rejection, self.batch_id = fields, (), None
        self.submission, self.updated_at = SubmissionState.PENDING, now


def restricts(decision: Decision, actions: Iterable[EnforcementAction]) -> bool:
    """A VIOLATING decision that restricted something (a warning alone restricts nothing)."""
    return decision.verdict is Verdict.VIOLATING and any(a.kind in RESTRICTING for a in actions)


def needs_statement(decision: Decision, actions: Iterable[EnforcementAction]) -> bool:
    """Every restricting decision in a region the DSA covers gets a statement."""
    return decision.region in SCOPE and restricts(decision, actions)


def choose_keywords(version: PolicyVersion, chosen: Iterable[str]) -> tuple[str, ...]:
    """The DSA keywords (``category_specification``) a decision states: chosen per decision among the cited policy
    version's allowed keywords (a policy on minors' safety allows both an age restriction and a CSAM removal; each
    decision names only what it found). None chosen: the statement states no keyword."""
    picked = tuple(sorted(set(chosen)))
    outside = [k for k in picked if k not in version.dsa_keywords]
    if outside:
        allowed = ", ".join(version.dsa_keywords) or "none"
        raise DomainError.invalid_input(
            f"{', '.join(outside[:3])}: not among the cited policy version's DSA keywords ({allowed})", "dsaKeywords"
        )
    return picked


def _day(value: datetime) -> str:
    return value.date().isoformat()


def _end(actions: list[EnforcementAction]) -> str | None:
    """The restriction's end date: the latest end when every action of the kind ends, else indefinite."""
    if not actions or any(a.ends_at is None for a in actions):
        return None
    return _day(max(a.ends_at for a in actions if a.ends_at is not None))


def _account_decision(actions: list[EnforcementAction]) -> DecisionAccount | None:
    """A ban outranks a suspension."""
    kinds = {a.kind for a in actions}
    if not kinds:
        return None
    return ACCOUNT[ActionKind.BAN_ACCOUNT if ActionKind.BAN_ACCOUNT in kinds else ActionKind.SUSPEND_ACCOUNT]


def _account_type(kind: AccountKind | None) -> AccountType | None:
    if kind is None:
        return None
    return AccountType.ACCOUNT_TYPE_BUSINESS if kind in BUSINESS_KINDS else AccountType.ACCOUNT_TYPE_PRIVATE


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def statement_fields(
    decision: Decision,
    *,
    cited: tuple[Policy, PolicyVersion],
    actions: Iterable[EnforcementAction],
    subject: SubjectFacts,
    top_source: ReportSource | None,
    puid: str,
    keywords: Sequence[str] = (),
) -> dict[str, Any]:
    """The statement's fields for the database (the optional ones only where Vigil knows them). ``keywords``: the
    decision's own choice (``choose_keywords``), never the policy version's whole list."""
    policy, version = cited
    applied = [a for a in actions if a.kind in RESTRICTING]
    visibility = [a for a in applied if a.kind in VISIBILITY]
    provision = [a for a in applied if a.kind in PROVISION]
    account = [a for a in applied if a.kind in ACCOUNT]
    source = SOURCE[top_source] if top_source is not None else SourceType.SOURCE_VOLUNTARY
    content_type = CONTENT_TYPE.get(subject.content_kind) if subject.content_kind else None
    language = (subject.language or "").split("-")[0].upper()
    ground = f"{policy.name} ({policy.code}, version {version.number}) of the community guidelines"
    detected = decision.automated or top_source is ReportSource.AUTOMATED
    fields: dict[str, Any] = {
        "decision_visibility": sorted({VISIBILITY[a.kind].value for a in visibility}),
        "end_date_visibility_restriction": _end(visibility),
        "decision_provision": PROVISION[provision[0].kind].value if provision else None,
        "end_date_service_restriction": _end(provision),
        "decision_account": _account_decision(account),
        "end_date_account_restriction": _end(account),
        "account_type": _account_type(subject.owner_kind),
        "decision_ground": DecisionGround.DECISION_GROUND_INCOMPATIBLE_CONTENT.value,
        "decision_ground_reference_url": version.guidelines_url,
        "incompatible_content_ground": _clip(ground, 500),
        "incompatible_content_explanation": _clip(f"{version.description} {decision.rationale}", 2000),
        "category": version.dsa_category,
        "category_specification": sorted(keywords),
        "content_type": [content_type.value if content_type else ContentType.CONTENT_TYPE_OTHER.value],
        "content_type_other": None if content_type else OTHER_TYPE.get(subject.kind, "Other"),
        "content_language": language if language in LANGUAGES else None,
        "content_date": _day(subject.posted_at),
        "application_date": _day(decision.decided_at),
        "decision_facts": _clip(decision.rationale, 5000),
        "source_type": source.value,
        "automated_detection": (YesNo.YES if detected else YesNo.NO).value,
        "automated_decision": AUTOMATED[decision.automated],
        "territorial_scope": list(SCOPE.get(decision.region, ())),
        "puid": puid,
    }
    return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in fields.items() if v not in (None, [])}


def take_statement(
    decision: Decision,
    *,
    cited: tuple[Policy, PolicyVersion],
    actions: Iterable[EnforcementAction],
    subject: SubjectFacts,
    top_source: ReportSource | None,
    keywords: Sequence[str] = (),
) -> StatementOfReasons | None:
    """The snapshot for a decision that needs one (``needs_statement``), else None."""
    applied = list(actions)
    if not needs_statement(decision, applied):
        return None
    statement_id = uuid.uuid4()
    puid = f"vigil-{statement_id}"
    now = decision.decided_at
    fields = statement_fields(
        decision, cited=cited, actions=applied, subject=subject, top_source=top_source, puid=puid, keywords=keywords
    )
    return StatementOfReasons(
        id=statement_id,
        region=decision.region,
        decision_id=decision.id,
        puid=puid,
        fields=fields,
        created_at=now,
        updated_at=now,
    )
