"""Ports: the repository and unit-of-work interfaces the domain needs (implemented by ``persistence``).

Contract for every implementation:

* ``get*`` / ``find*`` / ``list*`` return **tracked** instances: the unit of work remembers each one with a
  snapshot of its loaded state. Mutating a tracked entity in place is enough: on commit the unit of work diffs
  it against its snapshot, writes the changed columns with ``WHERE version = <loaded version>`` (raising a
  concurrency conflict if no row matches), bumps ``version``, and writes one audit event per change.
  Loading the same id twice in one unit of work returns the same instance.
* ``add`` registers a new entity; it is inserted on commit.
* Entities added or changed earlier in the same unit of work are visible to later reads in it (e.g. a
  report added for a retried batch item is found by ``get_by_idempotency_key``; a case opened by the first
  report of a batch is found by ``find_open_for_subject`` for the second).
* ``list*`` results have no guaranteed order unless stated.
* Services never commit or roll back; the caller does (``async with uow: ...; await uow.commit()``). A
  service that raises ``DomainError`` has changed nothing.
* ``clock`` is the only source of time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from domain.account import Account
from domain.actor import Actor
from domain.ad import Ad
from domain.appeal import Appeal
from domain.automation import AutomationRule
from domain.bulk import BulkJob, BulkJobItem
from domain.case import Case
from domain.clock import Clock
from domain.content import Content
from domain.decision import Decision
from domain.dsa.statement import StatementOfReasons, SubmissionState
from domain.enforcement import EnforcementAction
from domain.policy import Policy, PolicyVersion
from domain.qa import QaReview
from domain.queue import Queue, QueueSurface
from domain.region import Region
from domain.report import Report
from domain.strike import Strike
from domain.strike_ladder import LadderVersion
from domain.subject import SubjectKind, Surface


class AccountRepository(Protocol):
    async def get(self, id: uuid.UUID) -> Account | None: ...
    async def get_by_external_id(self, region: Region, external_id: str) -> Account | None: ...
    def add(self, account: Account) -> None: ...


class ContentRepository(Protocol):
    async def get(self, id: uuid.UUID) -> Content | None: ...
    async def get_by_external_id(self, region: Region, external_id: str) -> Content | None: ...
    def add(self, content: Content) -> None: ...


class AdRepository(Protocol):
    async def get(self, id: uuid.UUID) -> Ad | None: ...
    async def get_by_external_id(self, region: Region, external_id: str) -> Ad | None: ...
    def add(self, ad: Ad) -> None: ...


class PolicyRepository(Protocol):
    async def get(self, id: uuid.UUID) -> Policy | None: ...
    async def get_by_code(self, code: str) -> Policy | None: ...
    async def get_version(self, version_id: uuid.UUID) -> PolicyVersion | None: ...
    async def current_version(self, policy_id: uuid.UUID) -> PolicyVersion | None:
        """The version with the highest ``number`` for this policy (= ``Policy.current_version``)."""
        ...

    def add(self, policy: Policy) -> None: ...
    def add_version(self, version: PolicyVersion) -> None: ...


class ReportRepository(Protocol):
    async def get(self, id: uuid.UUID) -> Report | None: ...
    async def get_by_idempotency_key(self, reporter_id: str, key: str) -> Report | None: ...
    def add(self, report: Report) -> None: ...


class CaseRepository(Protocol):
    async def get(self, id: uuid.UUID) -> Case | None: ...
    async def find_open_for_subject(self, kind: SubjectKind, subject_id: uuid.UUID) -> Case | None:
        """The subject's case in OPEN, ASSIGNED or ESCALATED state, if any (at most one exists)."""
        ...

    def add(self, case: Case) -> None: ...


class DecisionRepository(Protocol):
    async def get(self, id: uuid.UUID) -> Decision | None: ...
    def add(self, decision: Decision) -> None: ...


class EnforcementRepository(Protocol):
    async def list_for_target(self, kind: SubjectKind, target_id: uuid.UUID) -> list[EnforcementAction]:
        """All actions on the target, reversed and ended ones included."""
        ...

    async def list_for_decision(self, decision_id: uuid.UUID) -> list[EnforcementAction]:
        """All actions of the decision, requested and ladder ones."""
        ...

    def add(self, action: EnforcementAction) -> None: ...


class StatementRepository(Protocol):
    async def get_for_decision(self, decision_id: uuid.UUID) -> StatementOfReasons | None: ...
    async def list_in_state(self, state: SubmissionState, *, limit: int | None) -> list[StatementOfReasons]:
        """Statements in ``state``, oldest first (at most ``limit``)."""
        ...

    async def list_in_batch(self, batch_id: uuid.UUID) -> list[StatementOfReasons]: ...
    def add(self, statement: StatementOfReasons) -> None: ...


class StrikeRepository(Protocol):
    async def list_for_account(self, account_id: uuid.UUID) -> list[Strike]:
        """All strikes on the account, reversed and expired ones included."""
        ...

    async def list_for_decision(self, decision_id: uuid.UUID) -> list[Strike]: ...
    def add(self, strike: Strike) -> None: ...


class AppealRepository(Protocol):
    async def get(self, id: uuid.UUID) -> Appeal | None: ...
    async def get_for_decision(self, decision_id: uuid.UUID) -> Appeal | None: ...
    async def next_in_queue(self, queue_id: uuid.UUID, *, now: datetime, decider: Actor) -> Appeal | None:
        """The queue's most overdue PENDING appeal without a live lease (earliest SLA due time, then earliest
        filed) that ``decider`` may decide (not the original decider, at least as senior), locked for this
        unit of work; appeals other units of work hold locked are skipped, so concurrent callers get
        different appeals."""
        ...

    def add(self, appeal: Appeal) -> None: ...


class QueueRepository(Protocol):
    async def get(self, id: uuid.UUID) -> Queue | None: ...
    async def get_by_name(self, region: Region, name: str) -> Queue | None: ...
    async def list_for(self, region: Region, surface: QueueSurface) -> list[Queue]:
        """Every queue of the region and surface (the routing candidates)."""
        ...

    async def next_case(self, queue_id: uuid.UUID, *, now: datetime, escalated: bool) -> Case | None:
        """The most urgent open case in the queue without a live lease (earliest SLA due time, then highest
        priority), locked for this unit of work; cases other units of work hold locked are skipped, so
        concurrent callers get different cases. ESCALATED cases only when ``escalated``."""
        ...

    def add(self, queue: Queue) -> None: ...


class QaRepository(Protocol):
    async def get_for_case(self, case_id: uuid.UUID) -> QaReview | None: ...
    def add(self, review: QaReview) -> None: ...


class AutomationRuleRepository(Protocol):
    async def get(self, id: uuid.UUID) -> AutomationRule | None: ...
    async def get_for(self, region: Region, policy_id: uuid.UUID, classifier: str) -> AutomationRule | None:
        """The region's rule for (policy, classifier), enabled or not (at most one exists)."""
        ...

    def add(self, rule: AutomationRule) -> None: ...


class StrikeLadderRepository(Protocol):
    async def get(self, id: uuid.UUID) -> LadderVersion | None: ...
    async def in_force(self, region: Region, surface: Surface) -> LadderVersion | None:
        """The region's latest version for ``surface`` (None: the defaults apply)."""
        ...

    def add(self, version: LadderVersion) -> None: ...


class UnitOfWork(Protocol):
    """One transaction's worth of repositories plus the clock. See the module docstring for the contract."""

    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def contents(self) -> ContentRepository: ...
    @property
    def ads(self) -> AdRepository: ...
    @property
    def policies(self) -> PolicyRepository: ...
    @property
    def reports(self) -> ReportRepository: ...
    @property
    def cases(self) -> CaseRepository: ...
    @property
    def decisions(self) -> DecisionRepository: ...
    @property
    def actions(self) -> EnforcementRepository: ...
    @property
    def strikes(self) -> StrikeRepository: ...
    @property
    def statements_of_reasons(self) -> StatementRepository: ...
    @property
    def appeals(self) -> AppealRepository: ...
    @property
    def queues(self) -> QueueRepository: ...
    @property
    def qa_reviews(self) -> QaRepository: ...
    @property
    def automation_rules(self) -> AutomationRuleRepository: ...
    @property
    def strike_ladders(self) -> StrikeLadderRepository: ...
    @property
    def clock(self) -> Clock: ...


class BulkJobRepository(Protocol):
    def add(self, job: BulkJob) -> None: ...


class BulkItemRepository(Protocol):
    def add(self, item: BulkJobItem) -> None: ...


class BulkSubmission(Protocol):
    """What submitting a bulk job needs: the policy it cites, somewhere to put the job and its items."""

    @property
    def policies(self) -> PolicyRepository: ...
    @property
    def bulk_jobs(self) -> BulkJobRepository: ...
    @property
    def bulk_items(self) -> BulkItemRepository: ...
    @property
    def clock(self) -> Clock: ...


class BulkUnitOfWork(UnitOfWork, BulkSubmission, Protocol):
    """A unit of work that also holds bulk jobs: a retroactive rule run files its cases and submits their job in
    one transaction."""
