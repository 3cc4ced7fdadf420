"""Rule 1: reports fold into the subject's one open case; idempotent retries; batch submit."""

from __future__ import annotations

import uuid

import pytest

from domain.case import CaseState
from domain.errors import DomainError, ErrorCode
from domain.policy import Severity
from domain.region import Region
from domain.report import ReportSource
from domain.services.report import SubmitReport, submit_report, submit_reports
from domain.subject import SubjectKind, Surface
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork


async def test_reports_on_one_subject_fold_into_one_case(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    video = await b.content(uow, owner, reach=50_000)
    hate = await b.policy(uow)

    reports = [
        await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, actor=b.reporter(n)) for n in range(5)
    ]

    assert len(uow.cases.all()) == 1
    case = uow.cases.all()[0]
    assert {r.case_id for r in reports} == {case.id}
    assert case.report_count == 5
    assert case.state is CaseState.OPEN
    assert case.subject_account_id == owner.id
    assert case.surface is Surface.CONTENT
    assert case.region is owner.region


async def test_priority_rises_with_each_report(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    video = await b.content(uow, owner)
    hate = await b.policy(uow)
    first = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, actor=b.reporter(1))
    case = await uow.cases.get(first.case_id)
    assert case is not None
    after_one, due_after_one = case.priority, case.sla_due_at

    for n in range(2, 10):
        await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, actor=b.reporter(n))

    assert case.priority > after_one
    assert case.sla_due_at <= due_after_one


async def test_more_severe_and_more_trusted_reports_raise_priority(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    video = await b.content(uow, owner)
    spam = await b.policy(uow, "SPAM", severity=Severity.LOW)
    csam = await b.policy(uow, "MINOR_SAFETY", severity=Severity.SEVERE)
    first = await b.report(uow, SubjectKind.CONTENT, video.id, spam.policy.id, actor=b.reporter(1))
    case = await uow.cases.get(first.case_id)
    assert case is not None
    low = case.priority

    await b.report(uow, SubjectKind.CONTENT, video.id, csam.policy.id, source=ReportSource.LEGAL)

    assert case.top_severity is Severity.SEVERE
    assert case.top_source is ReportSource.LEGAL
    assert case.priority > low + 40


async def test_retried_submit_returns_first_report_and_writes_nothing(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    video = await b.content(uow, owner)
    hate = await b.policy(uow)
    first = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, key="k-1")
    before = uow.snapshot()

    again = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, key="k-1")

    assert again is first
    assert uow.snapshot() == before


async def test_same_key_from_another_reporter_is_a_new_report(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    video = await b.content(uow, owner)
    hate = await b.policy(uow)
    first = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, actor=b.reporter(1), key="k")
    second = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, actor=b.reporter(2), key="k")

    assert second.id != first.id
    assert len(uow.reports.all()) == 2


async def test_report_after_case_decided_opens_a_new_case(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    video = await b.content(uow, owner)
    hate = await b.policy(uow)
    decided = await b.violate(uow, video, hate.policy.id)

    later = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, actor=b.reporter(9))

    assert later.case_id != decided.case.id
    assert decided.case.state is CaseState.DECIDED
    new_case = await uow.cases.get(later.case_id)
    assert new_case is not None
    assert new_case.state is CaseState.OPEN
    assert new_case.report_count == 1


async def test_unknown_subject_is_not_found_and_nothing_written(uow: FakeUnitOfWork) -> None:
    hate = await b.policy(uow)
    before = uow.snapshot()

    with pytest.raises(DomainError) as raised:
        await b.report(uow, SubjectKind.CONTENT, uuid.uuid4(), hate.policy.id)

    assert raised.value.code is ErrorCode.NOT_FOUND
    assert raised.value.field == "subjectId"
    assert uow.snapshot() == before


async def test_unknown_policy_is_not_found(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    with pytest.raises(DomainError) as raised:
        await b.report(uow, SubjectKind.ACCOUNT, owner.id, uuid.uuid4())
    assert raised.value.code is ErrorCode.NOT_FOUND
    assert raised.value.field == "policyId"


async def test_policy_must_fit_the_subject_surface(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    video = await b.content(uow, owner)
    ads_policy = await b.policy(uow, "MISLEADING_AD_CLAIMS", surface=Surface.ADS)
    before = uow.snapshot()

    with pytest.raises(DomainError) as raised:
        await b.report(uow, SubjectKind.CONTENT, video.id, ads_policy.policy.id)

    assert raised.value.code is ErrorCode.INVALID_INPUT
    assert raised.value.field == "policyId"
    assert uow.snapshot() == before


async def test_account_accepts_account_and_content_policies(uow: FakeUnitOfWork) -> None:
    target = await b.account(uow)
    impersonation = await b.policy(uow, "IMPERSONATION", surface=Surface.ACCOUNT)
    hate = await b.policy(uow)

    one = await b.report(uow, SubjectKind.ACCOUNT, target.id, impersonation.policy.id)
    two = await b.report(uow, SubjectKind.ACCOUNT, target.id, hate.policy.id, actor=b.reporter(3))

    assert one.case_id == two.case_id
    case = await uow.cases.get(one.case_id)
    assert case is not None
    assert case.surface is Surface.ACCOUNT
    assert case.subject_account_id == target.id


async def test_report_inherits_subject_region_and_reporter(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow, region=Region.EU)
    video = await b.content(uow, owner)
    hate = await b.policy(uow)

    filed = await b.report(uow, SubjectKind.CONTENT, video.id, hate.policy.id, source=ReportSource.TRUSTED_FLAGGER)

    assert filed.region is Region.EU
    assert filed.reporter_id == b.FLAGGER.id
    assert filed.reporter_kind is b.FLAGGER.kind
    assert filed.source is ReportSource.TRUSTED_FLAGGER


async def test_batch_returns_per_item_results_and_items_are_independent(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    video = await b.content(uow, owner)
    hate = await b.policy(uow)
    good = SubmitReport(
        subject_kind=SubjectKind.CONTENT,
        subject_id=video.id,
        policy_id=hate.policy.id,
        source=ReportSource.TRUSTED_FLAGGER,
        idempotency_key="a",
    )
    missing = SubmitReport(
        subject_kind=SubjectKind.CONTENT,
        subject_id=uuid.uuid4(),
        policy_id=hate.policy.id,
        source=ReportSource.TRUSTED_FLAGGER,
        idempotency_key="b",
    )
    other = SubmitReport(
        subject_kind=SubjectKind.ACCOUNT,
        subject_id=owner.id,
        policy_id=hate.policy.id,
        source=ReportSource.TRUSTED_FLAGGER,
        idempotency_key="c",
    )

    results = await submit_reports(uow, b.FLAGGER, [good, missing, other])

    assert [type(r).__name__ for r in results] == ["Report", "DomainError", "Report"]
    error = results[1]
    assert isinstance(error, DomainError)
    assert error.code is ErrorCode.NOT_FOUND
    assert len(uow.reports.all()) == 2
    assert len(uow.cases.all()) == 2


async def test_retried_batch_creates_no_duplicates(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow, region=Region.EU)
    hate = await b.policy(uow)
    videos = [await b.content(uow, owner) for _ in range(10)]
    batch = [
        SubmitReport(
            subject_kind=SubjectKind.CONTENT,
            subject_id=videos[n % 10].id,
            policy_id=hate.policy.id,
            source=ReportSource.TRUSTED_FLAGGER,
            idempotency_key=f"batch-1-{n}",
        )
        for n in range(100)
    ]

    first = await submit_reports(uow, b.FLAGGER, batch)
    retry = await submit_reports(uow, b.FLAGGER, batch)

    assert len(uow.reports.all()) == 100
    assert len(uow.cases.all()) == 10
    assert [r.id for r in retry if not isinstance(r, DomainError)] == [
        r.id for r in first if not isinstance(r, DomainError)
    ]
    assert all(c.report_count == 10 for c in uow.cases.all())


async def test_batch_over_limit_is_refused(uow: FakeUnitOfWork) -> None:
    hate = await b.policy(uow)
    item = SubmitReport(
        subject_kind=SubjectKind.CONTENT, subject_id=uuid.uuid4(), policy_id=hate.policy.id, source=ReportSource.USER
    )
    with pytest.raises(DomainError) as raised:
        await submit_reports(uow, b.FLAGGER, [item] * 101)
    assert raised.value.code is ErrorCode.INVALID_INPUT
    assert raised.value.field == "reports"


async def test_report_text_and_key_limits(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    long_text = SubmitReport(
        subject_kind=SubjectKind.ACCOUNT,
        subject_id=owner.id,
        policy_id=hate.policy.id,
        source=ReportSource.USER,
        text="x" * 10_001,
    )
    blank_key = SubmitReport(
        subject_kind=SubjectKind.ACCOUNT,
        subject_id=owner.id,
        policy_id=hate.policy.id,
        source=ReportSource.USER,
        idempotency_key="  ",
    )
    results = await submit_reports(uow, b.FLAGGER, [long_text, blank_key])

    assert [(r.code, r.field) for r in results if isinstance(r, DomainError)] == [
        (ErrorCode.INVALID_INPUT, "text"),
        (ErrorCode.INVALID_INPUT, "idempotencyKey"),
    ]
    assert uow.reports.all() == []
    assert uow.cases.all() == []


async def test_submit_report_direct_call_returns_report(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    hate = await b.policy(uow)
    cmd = SubmitReport(
        subject_kind=SubjectKind.ACCOUNT, subject_id=owner.id, policy_id=hate.policy.id, source=ReportSource.USER
    )
    filed = await submit_report(uow, b.reporter(1), cmd)
    assert filed.idempotency_key is None
    assert await uow.reports.get(filed.id) is filed
