"""Actors and seed data for domain tests, built through the real services."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

from domain import seniority
from domain.account import Account, AccountKind
from domain.actor import Actor, ActorKind, Capability
from domain.automation import RuleSettings
from domain.content import Content, ContentKind
from domain.decision import Verdict
from domain.enforcement import RequestedAction
from domain.policy import Severity
from domain.region import Region
from domain.report import Report, ReportSource
from domain.services.account import UpsertAccount, upsert_account
from domain.services.content import UpsertContent, upsert_content
from domain.services.decision import DecideCase, DecideResult, decide_case
from domain.services.policy import DefinePolicy, PolicyDefinition, define_policy
from domain.services.report import SubmitReport, submit_report
from domain.subject import SubjectKind, Surface
from tests.unit.domain.fakes import FakeUnitOfWork

T0 = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)

#: What ``accounts:ban`` grants moderators (and not vendor moderators or policy managers) in ``authz/policy.csv``.
SANCTIONS = frozenset((Capability.SANCTION_ACCOUNTS, region) for region in Region)
VENDOR = Actor(id="vendor-1", kind=ActorKind.STAFF, seniority=seniority.VENDOR_MODERATOR)
MODERATOR = Actor(id="mod-1", kind=ActorKind.STAFF, seniority=seniority.MODERATOR, capabilities=SANCTIONS)
MODERATOR_2 = Actor(id="mod-2", kind=ActorKind.STAFF, seniority=seniority.MODERATOR, capabilities=SANCTIONS)
SENIOR = Actor(id="senior-1", kind=ActorKind.STAFF, seniority=seniority.SENIOR_MODERATOR, capabilities=SANCTIONS)
SENIOR_2 = Actor(id="senior-2", kind=ActorKind.STAFF, seniority=seniority.SENIOR_MODERATOR, capabilities=SANCTIONS)
POLICY_MANAGER = Actor(id="pm-1", kind=ActorKind.STAFF, seniority=seniority.POLICY_MANAGER)
PLATFORM = Actor(id="token-platform", kind=ActorKind.TOKEN)
FLAGGER = Actor(id="token-flagger", kind=ActorKind.TOKEN)
BOT = Actor(id="rule-1", kind=ActorKind.AUTOMATION, seniority=seniority.AUTOMATION)

_seq = itertools.count(1)


def reporter(n: int) -> Actor:
    return Actor(id=f"user-{n}", kind=ActorKind.TOKEN)


async def account(
    uow: FakeUnitOfWork, *, region: Region = Region.US, kind: AccountKind = AccountKind.CREATOR
) -> Account:
    n = next(_seq)
    cmd = UpsertAccount(region=region, external_id=f"acct-{n}", kind=kind, handle=f"h{n}", display_name=f"Person {n}")
    return await upsert_account(uow, PLATFORM, cmd)


async def content(uow: FakeUnitOfWork, owner: Account, *, reach: int = 1_000) -> Content:
    cmd = UpsertContent(owner_account_id=owner.id, external_id=f"vid-{next(_seq)}", kind=ContentKind.VIDEO, reach=reach)
    return await upsert_content(uow, PLATFORM, cmd)


async def policy(
    uow: FakeUnitOfWork,
    code: str = "HATE_SPEECH",
    *,
    surface: Surface = Surface.CONTENT,
    severity: Severity = Severity.HIGH,
    weight: int = 1,
    ttl_days: int = 90,
) -> PolicyDefinition:
    cmd = DefinePolicy(
        code=code,
        name=code.replace("_", " ").title(),
        surface=surface,
        severity=severity,
        dsa_category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        description=f"{code} rules",
        strike_weight=weight,
        strike_ttl_days=ttl_days,
    )
    return await define_policy(uow, POLICY_MANAGER, cmd)


async def report(
    uow: FakeUnitOfWork,
    subject_kind: SubjectKind,
    subject_id: uuid.UUID,
    policy_id: uuid.UUID,
    *,
    actor: Actor = FLAGGER,
    source: ReportSource = ReportSource.USER,
    key: str | None = None,
) -> Report:
    cmd = SubmitReport(
        subject_kind=subject_kind, subject_id=subject_id, policy_id=policy_id, source=source, idempotency_key=key
    )
    return await submit_report(uow, actor, cmd)


async def violate(
    uow: FakeUnitOfWork,
    item: Content,
    policy_id: uuid.UUID,
    *,
    actor: Actor = MODERATOR,
    actions: tuple[RequestedAction, ...] = (),
) -> DecideResult:
    """Report a content and decide its case VIOLATING."""
    filed = await report(uow, SubjectKind.CONTENT, item.id, policy_id)
    cmd = DecideCase(
        case_id=filed.case_id,
        verdict=Verdict.VIOLATING,
        policy_id=policy_id,
        rationale="Breaks the policy.",
        actions=actions,
    )
    return await decide_case(uow, actor, cmd)


async def decide(
    uow: FakeUnitOfWork,
    case_id: uuid.UUID,
    policy_id: uuid.UUID,
    *,
    actor: Actor = MODERATOR,
    actions: tuple[RequestedAction, ...] = (),
) -> DecideResult:
    """Decide a case VIOLATING."""
    cmd = DecideCase(
        case_id=case_id, verdict=Verdict.VIOLATING, policy_id=policy_id, rationale="Breaks the policy.", actions=actions
    )
    return await decide_case(uow, actor, cmd)


def rule_settings(*, actions: tuple[RequestedAction, ...]) -> RuleSettings:
    return RuleSettings(enqueue_threshold=0.6, decide_threshold=0.9, actions=actions)
