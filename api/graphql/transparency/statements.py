"""The DSA statement of reasons in GraphQL: the Transparency Database's vocabularies as enums, the statement as a
typed object (read through its decision, so under the decision's read rules) and its submission state, and the
notices to the affected user (art. 17) and to the reporter (art. 16(5))."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

import api.graphql.shared.enums  # noqa: F401  (registers the domain enums)
from api.graphql.context import Info
from domain.config import DEFAULT_CONFIG
from domain.decision import Decision
from domain.dsa.notices import affected_user_notice, pick_language, reporter_notice
from domain.dsa.statement import StatementOfReasons as StatementEntity
from domain.dsa.statement import SubjectFacts, SubmissionState, restricts, statement_fields
from domain.dsa.vocabulary import (
    AccountType,
    AutomatedDecision,
    Category,
    ContentType,
    Country,
    DecisionAccount,
    DecisionGround,
    DecisionMonetary,
    DecisionProvision,
    DecisionVisibility,
    Keyword,
    SourceType,
    YesNo,
)
from domain.report import Report
from domain.subject import SubjectKind

E = TypeVar("E")


for _enum, _name, _description in (
    (Category, "DsaCategory", "DSA statement category (Transparency Database `category`)."),
    (Keyword, "DsaKeyword", "DSA keyword refining the category (`category_specification`)."),
    (DecisionVisibility, "DsaDecisionVisibility", "Restriction of the visibility of content."),
    (DecisionMonetary, "DsaDecisionMonetary", "Restriction of monetary payments."),
    (DecisionProvision, "DsaDecisionProvision", "Suspension or termination of the service."),
    (DecisionAccount, "DsaDecisionAccount", "Suspension or termination of the account."),
    (AccountType, "DsaAccountType", None),
    (DecisionGround, "DsaDecisionGround", "Illegal content, or content incompatible with the terms."),
    (ContentType, "DsaContentType", None),
    (SourceType, "DsaSourceType", "Where the information the decision relied on came from."),
    (YesNo, "DsaYesNo", None),
    (AutomatedDecision, "DsaAutomatedDecision", None),
    (Country, "DsaCountry", "An EEA member state (ISO 3166-1 alpha-2; Greece is GR)."),
):
    strawberry.enum(_enum, name=_name, description=_description)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


@strawberry.type(description="The statement's submission to the DSA Transparency Database.")
class StatementSubmission:
    state: SubmissionState
    database_id: str | None = strawberry.field(description="The statement's uuid in the database once SUBMITTED.")
    rejection: list[str] = strawberry.field(description="The database's reasons when REJECTED (`field: message`).")
    submitted_at: datetime | None


@strawberry.type(
    description="EU DSA statement of reasons (art. 17), taken when the decision was recorded and sent to the DSA "
    "Transparency Database (art. 24(5)). Field names follow the database's API."
)
class StatementOfReasons:
    entity: strawberry.Private[StatementEntity]

    def _get(self, name: str) -> Any:
        return self.entity.fields.get(name)

    def _list(self, name: str, kind: type[E]) -> list[E]:
        return [kind(v) for v in self.entity.fields.get(name) or []]  # type: ignore[call-arg]

    @strawberry.field(description="The platform's unique id of the statement.")
    def puid(self) -> str:
        return self.entity.puid

    @strawberry.field
    def decision_visibility(self) -> list[DecisionVisibility]:
        return self._list("decision_visibility", DecisionVisibility)

    @strawberry.field
    def decision_visibility_other(self) -> str | None:
        return cast(str | None, self._get("decision_visibility_other"))

    @strawberry.field
    def end_date_visibility_restriction(self) -> date | None:
        return _day(self._get("end_date_visibility_restriction"))

    @strawberry.field
    def decision_monetary(self) -> DecisionMonetary | None:
        value = self._get("decision_monetary")
        return DecisionMonetary(value) if value else None

    @strawberry.field
    def end_date_monetary_restriction(self) -> date | None:
        return _day(self._get("end_date_monetary_restriction"))

    @strawberry.field
    def decision_provision(self) -> DecisionProvision | None:
        value = self._get("decision_provision")
        return DecisionProvision(value) if value else None

    @strawberry.field
    def end_date_service_restriction(self) -> date | None:
        return _day(self._get("end_date_service_restriction"))

    @strawberry.field
    def decision_account(self) -> DecisionAccount | None:
        value = self._get("decision_account")
        return DecisionAccount(value) if value else None

    @strawberry.field
    def end_date_account_restriction(self) -> date | None:
        return _day(self._get("end_date_account_restriction"))

    @strawberry.field
    def account_type(self) -> AccountType | None:
        value = self._get("account_type")
        return AccountType(value) if value else None

    @strawberry.field
    def decision_ground(self) -> DecisionGround:
        return DecisionGround(self._get("decision_ground"))

    @strawberry.field
    def decision_ground_reference_url(self) -> str | None:
        return cast(str | None, self._get("decision_ground_reference_url"))

    @strawberry.field
    def illegal_content_legal_ground(self) -> str | None:
        return cast(str | None, self._get("illegal_content_legal_ground"))

    @strawberry.field
    def illegal_content_explanation(self) -> str | None:
        return cast(str | None, self._get("illegal_content_explanation"))

    @strawberry.field
    def incompatible_content_ground(self) -> str | None:
        return cast(str | None, self._get("incompatible_content_ground"))

    @strawberry.field
    def incompatible_content_explanation(self) -> str | None:
        return cast(str | None, self._get("incompatible_content_explanation"))

    @strawberry.field
    def category(self) -> Category:
        return Category(self._get("category"))

    @strawberry.field
    def category_specification(self) -> list[Keyword]:
        return self._list("category_specification", Keyword)

    @strawberry.field
    def content_type(self) -> list[ContentType]:
        return self._list("content_type", ContentType)

    @strawberry.field
    def content_type_other(self) -> str | None:
        return cast(str | None, self._get("content_type_other"))

    @strawberry.field(description="ISO 639-1, upper case.")
    def content_language(self) -> str | None:
        return cast(str | None, self._get("content_language"))

    @strawberry.field(description="When the content was posted (the account opened, the ad submitted).")
    def content_date(self) -> date:
        return date.fromisoformat(self._get("content_date"))

    @strawberry.field(description="When the restriction started.")
    def application_date(self) -> date:
        return date.fromisoformat(self._get("application_date"))

    @strawberry.field
    def decision_facts(self) -> str:
        return cast(str, self._get("decision_facts"))

    @strawberry.field
    def source_type(self) -> SourceType:
        return SourceType(self._get("source_type"))

    @strawberry.field
    def automated_detection(self) -> YesNo:
        return YesNo(self._get("automated_detection"))

    @strawberry.field
    def automated_decision(self) -> AutomatedDecision:
        return AutomatedDecision(self._get("automated_decision"))

    @strawberry.field
    def territorial_scope(self) -> list[Country]:
        return self._list("territorial_scope", Country)

    @strawberry.field(description="The statement exactly as sent to the database (a JSON object).")
    def fields(self) -> JSON:
        return cast(JSON, self.entity.fields)

    @strawberry.field
    def submission(self) -> StatementSubmission:
        e = self.entity
        return StatementSubmission(
            state=e.submission, database_id=e.database_id, rejection=list(e.rejection), submitted_at=e.submitted_at
        )


async def statement_for(info: Info, decision: Decision) -> StatementOfReasons | None:
    found = await info.context.loaders.statements_by_decision.load(decision.id)
    return StatementOfReasons(entity=found[0]) if found else None


async def legacy_fields(info: Info, d: Decision) -> dict[str, Any] | None:
    """The old untyped field: the stored statement, else (a decision without one, e.g. outside the EU) the fields
    built from the records as they are now, for any restricting decision."""
    loaders = info.context.loaders
    stored = await loaders.statements_by_decision.load(d.id)
    if stored:
        return dict(stored[0].fields)
    actions, case, account = await asyncio.gather(
        loaders.actions_by_decision.load(d.id), loaders.case.load(d.case_id), loaders.account.load(d.subject_account_id)
    )
    if d.policy_id is None or d.policy_version_id is None or not restricts(d, actions):
        return None
    policy, version = await asyncio.gather(
        loaders.policy.load(d.policy_id), loaders.policy_version.load(d.policy_version_id)
    )
    content = await loaders.content.load(d.subject_id) if d.subject_kind is SubjectKind.CONTENT else None
    ad = await loaders.ad.load(d.subject_id) if d.subject_kind is SubjectKind.AD else None
    if policy is None or version is None or account is None:
        return None
    posted = content.created_at if content else ad.created_at if ad else account.created_at
    facts = SubjectFacts(d.subject_kind, posted, content.kind if content else None, account.language, account.kind)
    top_source = case.top_source if case else None
    return statement_fields(
        d, cited=(policy, version), actions=actions, subject=facts, top_source=top_source, puid=f"vigil-{d.id}"
    )


@strawberry.type(description="A notice rendered for its recipient, in the language asked for (else English).")
class Notice:
    language: str = strawberry.field(description="The language it is written in (en, de).")
    subject: str
    body: str


async def user_notice_for(info: Info, d: Decision, language: str | None) -> Notice | None:
    """The art. 17 statement to the affected user, from the decision's stored statement when it has one."""
    loaders = info.context.loaders
    if d.policy_id is None or d.policy_version_id is None:
        return None
    actions, stored, case, account, policy, version = await asyncio.gather(
        loaders.actions_by_decision.load(d.id),
        loaders.statements_by_decision.load(d.id),
        loaders.case.load(d.case_id),
        loaders.account.load(d.subject_account_id),
        loaders.policy.load(d.policy_id),
        loaders.policy_version.load(d.policy_version_id),
    )
    if policy is None or version is None:
        return None
    notice = affected_user_notice(
        d,
        cited=(policy, version),
        actions=[a for a in actions if a.decision_id == d.id],
        statement=stored[0].fields if stored else None,
        appeal_window=DEFAULT_CONFIG.appeal_window,
        top_source=case.top_source if case else None,
        language=pick_language(language, account.language if account else None),
    )
    return None if notice is None else Notice(language=notice.language, subject=notice.subject, body=notice.body)


async def outcome_notice_for(info: Info, report: Report, language: str | None) -> Notice | None:
    """The art. 16(5) notice to the reporter: null until the report's case is decided."""
    loaders = info.context.loaders
    decided = await loaders.decisions_by_case.load(report.case_id)
    if not decided:
        return None
    decision = decided[-1]
    actions, policy = await asyncio.gather(
        loaders.actions_by_decision.load(decision.id), loaders.policy.load(report.policy_id)
    )
    notice = reporter_notice(report, decision=decision, policy=policy, actions=actions, language=language)
    return None if notice is None else Notice(language=notice.language, subject=notice.subject, body=notice.body)
