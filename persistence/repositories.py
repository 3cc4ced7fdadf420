"""Repositories: the domain's ports (domain.ports) on SQL. Reads return tracked entities; `add` registers new
ones. Queries that could see entities added earlier in the unit of work flush first (as an ORM autoflush would).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from domain.account import Account
from domain.actor import Actor
from domain.ad import Ad
from domain.appeal import Appeal
from domain.automation import AutomationRule
from domain.bulk import BulkJob, BulkJobItem
from domain.case import OPEN_STATES, Case
from domain.content import Content
from domain.decision import Decision
from domain.dsa.statement import StatementOfReasons, SubmissionState
from domain.enforcement import EnforcementAction
from domain.outbox.webhook import WebhookDelivery, WebhookEndpoint
from domain.policy import Policy, PolicyVersion
from domain.qa import QaReview
from domain.queue import Queue, QueueSurface
from domain.region import Region
from domain.report import Report
from domain.strike import Strike
from domain.strike_ladder import LadderVersion
from domain.subject import SubjectKind, Surface
from persistence.mapping import EntityMapping
from persistence.operations import claimable_appeal, claimable_case
from persistence.tables.automation import automation_rules
from persistence.tables.bulk import bulk_job_items, bulk_jobs
from persistence.tables.cases import cases, reports
from persistence.tables.moderated import accounts, ads, contents
from persistence.tables.operations import qa_reviews, queues
from persistence.tables.outbox import webhook_deliveries, webhook_endpoints
from persistence.tables.outcomes import appeals, decisions, enforcement_actions, statements_of_reasons, strikes
from persistence.tables.policies import policies, policy_versions, strike_ladders
from persistence.uow import SqlUnitOfWork

E = TypeVar("E")

ACCOUNTS = EntityMapping(Account, accounts, "Account", personal=frozenset({"email", "phone", "last_ip"}))
CONTENTS = EntityMapping(Content, contents, "Content")
ADS = EntityMapping(Ad, ads, "Ad")
POLICIES = EntityMapping(Policy, policies, "Policy")
POLICY_VERSIONS = EntityMapping(PolicyVersion, policy_versions, "PolicyVersion")
REPORTS = EntityMapping(Report, reports, "Report")
CASES = EntityMapping(Case, cases, "Case")
DECISIONS = EntityMapping(Decision, decisions, "Decision")
ACTIONS = EntityMapping(EnforcementAction, enforcement_actions, "EnforcementAction")
STRIKES = EntityMapping(Strike, strikes, "Strike")
STATEMENTS = EntityMapping(StatementOfReasons, statements_of_reasons, "StatementOfReasons")
APPEALS = EntityMapping(Appeal, appeals, "Appeal")
QUEUES = EntityMapping(Queue, queues, "Queue")
QA_REVIEWS = EntityMapping(QaReview, qa_reviews, "QaReview")
AUTOMATION_RULES = EntityMapping(AutomationRule, automation_rules, "AutomationRule")
STRIKE_LADDERS = EntityMapping(LadderVersion, strike_ladders, "StrikeLadder")
BULK_JOBS = EntityMapping(BulkJob, bulk_jobs, "BulkJob")
BULK_ITEMS = EntityMapping(BulkJobItem, bulk_job_items, "BulkJobItem")
# Signing secrets never reach the append-only audit trail (events record only that they changed).
WEBHOOK_ENDPOINTS = EntityMapping(
    WebhookEndpoint, webhook_endpoints, "Webhook", personal=frozenset({"secret", "previous_secret"})
)
WEBHOOK_DELIVERIES = EntityMapping(WebhookDelivery, webhook_deliveries, "WebhookDelivery")

MAPPINGS: tuple[EntityMapping[Any], ...] = (
    ACCOUNTS,
    CONTENTS,
    ADS,
    POLICIES,
    POLICY_VERSIONS,
    REPORTS,
    CASES,
    DECISIONS,
    ACTIONS,
    STRIKES,
    STATEMENTS,
    APPEALS,
    QUEUES,
    QA_REVIEWS,
    AUTOMATION_RULES,
    STRIKE_LADDERS,
    BULK_JOBS,
    BULK_ITEMS,
    WEBHOOK_ENDPOINTS,
    WEBHOOK_DELIVERIES,
)


class SqlRepository(Generic[E]):
    mapping: EntityMapping[E]

    def __init__(self, uow: SqlUnitOfWork, mapping: EntityMapping[E]) -> None:
        self.uow = uow
        self.mapping = mapping

    @property
    def table(self) -> sa.Table:
        return self.mapping.table

    async def get(self, id: uuid.UUID) -> E | None:
        hit = self.uow.tracked(self.mapping, id)
        if hit is not None:
            return hit  # type: ignore[no-any-return]  # tracked: already passed the region filter or new
        return await self._one(self.table.c.id == id, flush=False)

    def add(self, entity: E) -> None:
        self.uow.register_new(self.mapping, entity)

    async def _one(self, *where: sa.ColumnElement[bool], flush: bool = True) -> E | None:
        rows = await self._all(*where, flush=flush, limit=2)
        return rows[0] if rows else None

    async def _all(self, *where: sa.ColumnElement[bool], flush: bool = True, limit: int | None = None) -> list[E]:
        if flush:
            await self.uow.flush()
        stmt = sa.select(self.table).where(*where)
        # Global records (policies: region NULL) are always visible; webhook endpoints have no region column (they
        # are checked by owner).
        if self.uow.regions is not None and "region" in self.table.c:
            region = self.table.c.region
            stmt = stmt.where(sa.or_(region.is_(None), region.in_(sorted(self.uow.regions))))
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = (await self.uow.session.execute(stmt)).mappings().all()
        return [self.uow.track_loaded(self.mapping, row) for row in rows]


class ExternalIdRepository(SqlRepository[E]):
    async def get_by_external_id(self, region: Region, external_id: str) -> E | None:
        return await self._one(self.table.c.region == region, self.table.c.external_id == external_id)


class PolicyRepository(SqlRepository[Policy]):
    def __init__(self, uow: SqlUnitOfWork) -> None:
        super().__init__(uow, POLICIES)
        self.versions = SqlRepository(uow, POLICY_VERSIONS)

    async def get_by_code(self, code: str) -> Policy | None:
        return await self._one(policies.c.code == code)

    async def get_version(self, version_id: uuid.UUID) -> PolicyVersion | None:
        return await self.versions.get(version_id)

    async def current_version(self, policy_id: uuid.UUID) -> PolicyVersion | None:
        policy = await self.get(policy_id)
        if policy is None:
            return None
        return await self.versions._one(
            policy_versions.c.policy_id == policy_id, policy_versions.c.number == policy.current_version
        )

    def add_version(self, version: PolicyVersion) -> None:
        self.versions.add(version)


class ReportRepository(SqlRepository[Report]):
    async def get_by_idempotency_key(self, reporter_id: str, key: str) -> Report | None:
        return await self._one(reports.c.reporter_id == reporter_id, reports.c.idempotency_key == key)


class CaseRepository(SqlRepository[Case]):
    async def find_open_for_subject(self, kind: SubjectKind, subject_id: uuid.UUID) -> Case | None:
        """Under the subject's lock (held to commit): whoever opens or folds into the subject's case goes one at
        a time, on this engine and report intake's alike."""
        await self.uow.lock_subject(subject_id)
        return await self._one(
            cases.c.subject_kind == kind, cases.c.subject_id == subject_id, cases.c.state.in_(list(OPEN_STATES))
        )


class EnforcementRepository(SqlRepository[EnforcementAction]):
    async def list_for_target(self, kind: SubjectKind, target_id: uuid.UUID) -> list[EnforcementAction]:
        t = enforcement_actions.c
        return await self._all(t.target_kind == kind, t.target_id == target_id)

    async def list_for_decision(self, decision_id: uuid.UUID) -> list[EnforcementAction]:
        return await self._all(enforcement_actions.c.decision_id == decision_id)


class StrikeRepository(SqlRepository[Strike]):
    async def list_for_account(self, account_id: uuid.UUID) -> list[Strike]:
        return await self._all(strikes.c.account_id == account_id)

    async def list_for_decision(self, decision_id: uuid.UUID) -> list[Strike]:
        return await self._all(strikes.c.decision_id == decision_id)


class StatementRepository(SqlRepository[StatementOfReasons]):
    async def get_for_decision(self, decision_id: uuid.UUID) -> StatementOfReasons | None:
        return await self._one(statements_of_reasons.c.decision_id == decision_id)

    async def list_in_state(self, state: SubmissionState, *, limit: int | None) -> list[StatementOfReasons]:
        await self.uow.flush()
        st = statements_of_reasons.c
        stmt = sa.select(statements_of_reasons).where(st.submission == state).order_by(st.created_at, st.id)
        if self.uow.regions is not None:
            stmt = stmt.where(st.region.in_(sorted(self.uow.regions)))
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = (await self.uow.session.execute(stmt)).mappings().all()
        return [self.uow.track_loaded(self.mapping, row) for row in rows]

    async def list_in_batch(self, batch_id: uuid.UUID) -> list[StatementOfReasons]:
        return await self._all(statements_of_reasons.c.batch_id == batch_id)


class AppealRepository(SqlRepository[Appeal]):
    async def get_for_decision(self, decision_id: uuid.UUID) -> Appeal | None:
        return await self._one(appeals.c.decision_id == decision_id)

    async def next_in_queue(self, queue_id: uuid.UUID, *, now: datetime, decider: Actor) -> Appeal | None:
        await self.uow.flush()
        stmt = claimable_appeal(queue_id, now=now, decider_id=decider.id, seniority=decider.seniority)
        if self.uow.regions is not None:
            stmt = stmt.where(appeals.c.region.in_(sorted(self.uow.regions)))
        row = (await self.uow.session.execute(stmt)).mappings().one_or_none()
        return None if row is None else self.uow.track_loaded(APPEALS, row)


class QueueRepository(SqlRepository[Queue]):
    async def get_by_name(self, region: Region, name: str) -> Queue | None:
        return await self._one(queues.c.region == region, queues.c.name == name)

    async def list_for(self, region: Region, surface: QueueSurface) -> list[Queue]:
        return await self._all(queues.c.region == region, queues.c.surface == surface)

    async def next_case(self, queue_id: uuid.UUID, *, now: datetime, escalated: bool) -> Case | None:
        await self.uow.flush()
        stmt = claimable_case(queue_id, now=now, escalated=escalated, regions=self.uow.regions)
        row = (await self.uow.session.execute(stmt)).mappings().one_or_none()
        return None if row is None else self.uow.track_loaded(CASES, row)


class QaRepository(SqlRepository[QaReview]):
    async def get_for_case(self, case_id: uuid.UUID) -> QaReview | None:
        return await self._one(qa_reviews.c.case_id == case_id)


class AutomationRuleRepository(SqlRepository[AutomationRule]):
    async def get_for(self, region: Region, policy_id: uuid.UUID, classifier: str) -> AutomationRule | None:
        t = automation_rules.c
        return await self._one(t.region == region, t.policy_id == policy_id, t.classifier == classifier)


class StrikeLadderRepository(SqlRepository[LadderVersion]):
    async def in_force(self, region: Region, surface: Surface) -> LadderVersion | None:
        await self.uow.flush()
        t = strike_ladders.c
        stmt = sa.select(strike_ladders).where(t.region == region, t.surface == surface)
        row = (await self.uow.session.execute(stmt.order_by(t.number.desc()).limit(1))).mappings().one_or_none()
        return None if row is None else self.uow.track_loaded(STRIKE_LADDERS, row)


class PostgresUnitOfWork(SqlUnitOfWork):
    """The domain's UnitOfWork port (``domain.ports.UnitOfWork``) on PostgreSQL: every repository of the model."""

    def _repo(self, name: str, factory: Any) -> Any:
        repo = self._repos.get(name)
        if repo is None:
            repo = self._repos[name] = factory()
        return repo

    @property
    def accounts(self) -> ExternalIdRepository[Account]:
        return self._repo("accounts", lambda: ExternalIdRepository(self, ACCOUNTS))  # type: ignore[no-any-return]

    @property
    def contents(self) -> ExternalIdRepository[Content]:
        return self._repo("contents", lambda: ExternalIdRepository(self, CONTENTS))  # type: ignore[no-any-return]

    @property
    def ads(self) -> ExternalIdRepository[Ad]:
        return self._repo("ads", lambda: ExternalIdRepository(self, ADS))  # type: ignore[no-any-return]

    @property
    def policies(self) -> PolicyRepository:
        return self._repo("policies", lambda: PolicyRepository(self))  # type: ignore[no-any-return]

    @property
    def reports(self) -> ReportRepository:
        return self._repo("reports", lambda: ReportRepository(self, REPORTS))  # type: ignore[no-any-return]

    @property
    def cases(self) -> CaseRepository:
        return self._repo("cases", lambda: CaseRepository(self, CASES))  # type: ignore[no-any-return]

    @property
    def decisions(self) -> SqlRepository[Decision]:
        return self._repo("decisions", lambda: SqlRepository(self, DECISIONS))  # type: ignore[no-any-return]

    @property
    def actions(self) -> EnforcementRepository:
        return self._repo("actions", lambda: EnforcementRepository(self, ACTIONS))  # type: ignore[no-any-return]

    @property
    def strikes(self) -> StrikeRepository:
        return self._repo("strikes", lambda: StrikeRepository(self, STRIKES))  # type: ignore[no-any-return]

    @property
    def statements_of_reasons(self) -> StatementRepository:
        return self._repo("statements_of_reasons", lambda: StatementRepository(self, STATEMENTS))  # type: ignore[no-any-return]

    @property
    def appeals(self) -> AppealRepository:
        return self._repo("appeals", lambda: AppealRepository(self, APPEALS))  # type: ignore[no-any-return]

    @property
    def queues(self) -> QueueRepository:
        return self._repo("queues", lambda: QueueRepository(self, QUEUES))  # type: ignore[no-any-return]

    @property
    def qa_reviews(self) -> QaRepository:
        return self._repo("qa_reviews", lambda: QaRepository(self, QA_REVIEWS))  # type: ignore[no-any-return]

    @property
    def automation_rules(self) -> AutomationRuleRepository:
        return self._repo(  # type: ignore[no-any-return]
            "automation_rules", lambda: AutomationRuleRepository(self, AUTOMATION_RULES)
        )

    @property
    def strike_ladders(self) -> StrikeLadderRepository:
        return self._repo(  # type: ignore[no-any-return]
            "strike_ladders", lambda: StrikeLadderRepository(self, STRIKE_LADDERS)
        )

    @property
    def bulk_jobs(self) -> SqlRepository[BulkJob]:
        return self._repo("bulk_jobs", lambda: SqlRepository(self, BULK_JOBS))  # type: ignore[no-any-return]

    @property
    def bulk_items(self) -> SqlRepository[BulkJobItem]:
        return self._repo("bulk_items", lambda: SqlRepository(self, BULK_ITEMS))  # type: ignore[no-any-return]

    @property
    def webhooks(self) -> SqlRepository[WebhookEndpoint]:
        return self._repo("webhooks", lambda: SqlRepository(self, WEBHOOK_ENDPOINTS))  # type: ignore[no-any-return]

    @property
    def webhook_deliveries(self) -> SqlRepository[WebhookDelivery]:
        return self._repo(  # type: ignore[no-any-return]
            "webhook_deliveries", lambda: SqlRepository(self, WEBHOOK_DELIVERIES)
        )
