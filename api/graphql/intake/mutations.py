"""Intake's mutations: accounts, content and ads pushed by platform services; reports from users, flaggers and staff."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.accepted_reports import AcceptedReports
from api.graphql.context import Info
from api.graphql.ids import parse_id
from api.graphql.intake.types import Account, Ad, Content, Report
from api.graphql.permissions import requires
from api.graphql.rule_evaluation import ReportRules
from api.graphql.runner import require_region, run, run_intake
from api.graphql.shared.build import build
from api.graphql.shared.common import Error, MutationError, error_from
from api.graphql.shared.inputs import SUBJECT_KINDS, subject_type
from api.graphql.shared.refs import CaseRef
from authz.permissions import Permission
from domain import limits
from domain.account import AccountKind
from domain.actor import Actor
from domain.content import ContentKind
from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.region import Region
from domain.report import Report as ReportEntity
from domain.report import ReportSource
from domain.services.account import UpsertAccount, upsert_account
from domain.services.ad import SubmitAd, submit_ad
from domain.services.content import UpsertContent, upsert_content
from domain.services.report import SubmitReport, submit_report, submit_reports
from persistence.repositories import PostgresUnitOfWork


@strawberry.input(description="Create or update an account, keyed by (region, externalId).")
class UpsertAccountInput:
    region: Region
    external_id: str
    kind: AccountKind
    handle: str
    display_name: str
    email: str | None = None
    phone: str | None = None
    last_ip: str | None = None
    language: str | None = None


@strawberry.type
class UpsertAccountSuccess:
    account: Account


@strawberry.input(description="Create or update content, keyed by (owner's region, externalId).")
class UpsertContentInput:
    owner_account_id: strawberry.ID
    external_id: str
    kind: ContentKind
    title: str | None = None
    text: str | None = None
    url: str | None = None
    language: str | None = None
    reach: int = 0


@strawberry.type
class UpsertContentSuccess:
    content: Content


@strawberry.input(description="Submit an ad creative; it waits in PENDING_REVIEW and does not serve until approved.")
class SubmitAdInput:
    advertiser_account_id: strawberry.ID
    external_id: str
    headline: str
    body: str
    landing_url: str
    target_regions: list[Region]
    media_refs: list[str] = strawberry.field(default_factory=list)


@strawberry.type
class SubmitAdSuccess:
    ad: Ad
    case: CaseRef


@strawberry.input(description="Report a subject (an Account, Content or Ad ID) under a policy.")
class SubmitReportInput:
    subject_id: strawberry.ID
    policy_id: strawberry.ID
    source: ReportSource
    text: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A retry with the same key returns the first report and writes nothing; the same key for a "
        "different report is CONFLICT (code IDEMPOTENCY_KEY_REUSED).",
    )


@strawberry.type
class SubmitReportSuccess:
    report: Report
    case: CaseRef


@strawberry.input
class SubmitReportsInput:
    reports: list[SubmitReportInput] = strawberry.field(description="At most 100; each item succeeds or fails alone.")


@strawberry.type(description="One result per input item, in order.")
class SubmitReportsSuccess:
    results: list[Annotated[SubmitReportSuccess | MutationError, strawberry.union("SubmitReportItemResult")]]


UpsertAccountResult = Annotated[UpsertAccountSuccess | MutationError, strawberry.union("UpsertAccountResult")]


UpsertContentResult = Annotated[UpsertContentSuccess | MutationError, strawberry.union("UpsertContentResult")]


SubmitAdResult = Annotated[SubmitAdSuccess | MutationError, strawberry.union("SubmitAdResult")]


SubmitReportResult = Annotated[SubmitReportSuccess | MutationError, strawberry.union("SubmitReportResult")]


SubmitReportsResult = Annotated[SubmitReportsSuccess | MutationError, strawberry.union("SubmitReportsResult")]


def report_command(item: SubmitReportInput, index: int | None = None) -> SubmitReport:
    prefix = f"reports[{index}]." if index is not None else ""
    type_name = subject_type(item.subject_id, prefix)
    return SubmitReport(
        subject_kind=SUBJECT_KINDS[type_name],
        subject_id=parse_id(item.subject_id, type_name, field=f"{prefix}subjectId"),
        policy_id=parse_id(item.policy_id, "Policy", field=f"{prefix}policyId"),
        source=item.source,
        text=item.text,
        idempotency_key=item.idempotency_key,
    )


async def _report_payload(info: Info, uow: UnitOfWork, report: ReportEntity) -> SubmitReportSuccess:
    """The payload from what the unit of work holds: no further query for a report that folded into a case here
    (the case is primed into the request's loader, so `report.status` reads it too)."""
    case = await uow.cases.find_open_for_subject(report.subject_kind, report.subject_id)
    if case is None or case.id != report.case_id:  # an idempotent retry of a report whose case has moved on
        case = await info.context.loaders.case.load(report.case_id)
        assert case is not None  # reports always belong to a case (foreign key)
    else:
        info.context.loaders.case.prime(case.id, case)
    return SubmitReportSuccess(report=build(Report, report), case=build(CaseRef, case))


@strawberry.type
class IntakeMutation:
    @strawberry.mutation(extensions=requires(Permission.ACCOUNTS_WRITE))
    async def upsert_account(self, info: Info, input: UpsertAccountInput) -> UpsertAccountResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> UpsertAccountSuccess:
            require_region(info.context, Permission.ACCOUNTS_WRITE, input.region.value)
            cmd = UpsertAccount(
                region=input.region,
                external_id=input.external_id,
                kind=input.kind,
                handle=input.handle,
                display_name=input.display_name,
                email=input.email,
                phone=input.phone,
                last_ip=input.last_ip,
                language=input.language,
            )
            return UpsertAccountSuccess(account=build(Account, await upsert_account(uow, actor, cmd)))

        return await run(info, "upsertAccount", Permission.ACCOUNTS_WRITE, command)

    @strawberry.mutation(extensions=requires(Permission.CONTENT_WRITE))
    async def upsert_content(self, info: Info, input: UpsertContentInput) -> UpsertContentResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> UpsertContentSuccess:
            cmd = UpsertContent(
                owner_account_id=parse_id(input.owner_account_id, "Account", field="ownerAccountId"),
                external_id=input.external_id,
                kind=input.kind,
                title=input.title,
                text=input.text,
                url=input.url,
                language=input.language,
                reach=input.reach,
            )
            return UpsertContentSuccess(content=build(Content, await upsert_content(uow, actor, cmd)))

        return await run(info, "upsertContent", Permission.CONTENT_WRITE, command)

    @strawberry.mutation(extensions=requires(Permission.ADS_WRITE))
    async def submit_ad(self, info: Info, input: SubmitAdInput) -> SubmitAdResult:
        async def command(uow: PostgresUnitOfWork, actor: Actor) -> SubmitAdSuccess:
            cmd = SubmitAd(
                advertiser_account_id=parse_id(input.advertiser_account_id, "Account", field="advertiserAccountId"),
                external_id=input.external_id,
                headline=input.headline,
                body=input.body,
                landing_url=input.landing_url,
                target_regions=tuple(input.target_regions),
                media_refs=tuple(input.media_refs),
            )
            submitted = await submit_ad(uow, actor, cmd)
            return SubmitAdSuccess(ad=build(Ad, submitted.ad), case=build(CaseRef, submitted.case))

        return await run(info, "submitAd", Permission.ADS_WRITE, command)

    @strawberry.mutation(extensions=requires(Permission.REPORTS_CREATE))
    async def submit_report(self, info: Info, input: SubmitReportInput) -> SubmitReportResult:
        try:
            cmd = report_command(input)
        except DomainError as exc:
            return error_from(exc)

        accepted = AcceptedReports()
        rules = await ReportRules.of(info.context)

        async def command(uow: UnitOfWork, actor: Actor) -> SubmitReportSuccess:
            accepted.begin(uow)
            rules.begin(uow)
            report = await submit_report(uow, actor, cmd)
            await accepted.note(uow, report)
            await rules.note(uow, [report])
            return await _report_payload(info, uow, report)

        result = await run_intake(info, "submitReport", [cmd], command, rule_regions=rules.regions)
        accepted.count(isinstance(result, SubmitReportSuccess))
        if isinstance(result, SubmitReportSuccess):
            await rules.evaluate()
        return result

    @strawberry.mutation(
        extensions=requires(Permission.REPORTS_CREATE),
        description="Up to 100 reports in one transaction; retried items with the same idempotency key are "
        "returned, not duplicated.",
    )
    async def submit_reports(self, info: Info, input: SubmitReportsInput) -> SubmitReportsResult:
        if len(input.reports) > limits.BATCH_MAX:
            return error_from(DomainError.invalid_input(f"at most {limits.BATCH_MAX} reports per batch", "reports"))
        commands: list[SubmitReport | DomainError] = []
        for index, item in enumerate(input.reports):
            try:
                commands.append(report_command(item, index))
            except DomainError as exc:
                commands.append(exc)
        valid = [c for c in commands if isinstance(c, SubmitReport)]

        accepted = AcceptedReports()
        rules = await ReportRules.of(info.context)

        async def command(uow: UnitOfWork, actor: Actor) -> SubmitReportsSuccess:
            accepted.begin(uow)
            rules.begin(uow)
            filed: list[ReportEntity] = []
            outcomes = iter(await submit_reports(uow, actor, valid))
            results: list[SubmitReportSuccess | Error] = []
            for parsed in commands:
                outcome = parsed if isinstance(parsed, DomainError) else next(outcomes)
                if isinstance(outcome, DomainError):
                    results.append(error_from(outcome))
                else:
                    filed.append(outcome)
                    await accepted.note(uow, outcome)
                    results.append(await _report_payload(info, uow, outcome))
            await rules.note(uow, filed)
            return SubmitReportsSuccess(results=results)  # type: ignore[arg-type]

        result = await run_intake(info, "submitReports", valid, command, rule_regions=rules.regions)
        accepted.count(isinstance(result, SubmitReportsSuccess))
        if isinstance(result, SubmitReportsSuccess):
            await rules.evaluate()
        return result
