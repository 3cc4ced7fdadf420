"""In-memory implementation of ``domain.ports`` for rule tests.

Entities are stored by reference (an identity map): what a service mutates is what later reads see, as with
the real unit of work. ``snapshot()`` deep-copies every store so a test can assert nothing changed.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from domain.account import Account
from domain.actor import Actor
from domain.ad import Ad
from domain.appeal import Appeal, AppealState
from domain.automation import AutomationRule
from domain.case import Case, CaseState
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
from domain.services.rules import Rule, RuleVersion
from domain.strike import Strike
from domain.strike_ladder import LadderVersion
from domain.subject import SubjectKind, Surface


class _HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


E = TypeVar("E", bound=_HasId)


class _Store(Generic[E]):
    def __init__(self) -> None:
        self.items: dict[uuid.UUID, E] = {}

    async def get(self, id: uuid.UUID) -> E | None:
        return self.items.get(id)

    def add(self, entity: E) -> None:
        assert entity.id not in self.items, "added twice"
        self.items[entity.id] = entity

    def all(self) -> list[E]:
        return list(self.items.values())


class FakeAccounts(_Store[Account]):
    async def get_by_external_id(self, region: Region, external_id: str) -> Account | None:
        return next((a for a in self.items.values() if (a.region, a.external_id) == (region, external_id)), None)


class FakeContents(_Store[Content]):
    async def get_by_external_id(self, region: Region, external_id: str) -> Content | None:
        return next((c for c in self.items.values() if (c.region, c.external_id) == (region, external_id)), None)


class FakeAds(_Store[Ad]):
    async def get_by_external_id(self, region: Region, external_id: str) -> Ad | None:
        return next((a for a in self.items.values() if (a.region, a.external_id) == (region, external_id)), None)


class FakePolicies(_Store[Policy]):
    def __init__(self) -> None:
        super().__init__()
        self.versions: dict[uuid.UUID, PolicyVersion] = {}

    async def get_by_code(self, code: str) -> Policy | None:
        return next((p for p in self.items.values() if p.code == code), None)

    async def get_version(self, version_id: uuid.UUID) -> PolicyVersion | None:
        return self.versions.get(version_id)

    async def current_version(self, policy_id: uuid.UUID) -> PolicyVersion | None:
        versions = [v for v in self.versions.values() if v.policy_id == policy_id]
        return max(versions, key=lambda v: v.number, default=None)

    def add_version(self, version: PolicyVersion) -> None:
        self.versions[version.id] = version


class FakeReports(_Store[Report]):
    async def get_by_idempotency_key(self, reporter_id: str, key: str) -> Report | None:
        found = (r for r in self.items.values() if (r.reporter_id, r.idempotency_key) == (reporter_id, key))
        return next(found, None)

    def for_case(self, case_id: uuid.UUID) -> list[Report]:
        return [r for r in self.items.values() if r.case_id == case_id]


class FakeCases(_Store[Case]):
    async def find_open_for_subject(self, kind: SubjectKind, subject_id: uuid.UUID) -> Case | None:
        found = [c for c in self.items.values() if (c.subject_kind, c.subject_id) == (kind, subject_id)]
        open_cases = [c for c in found if c.is_open]
        assert len(open_cases) <= 1, "two open cases for one subject"
        return open_cases[0] if open_cases else None


class FakeDecisions(_Store[Decision]):
    pass


class FakeActions(_Store[EnforcementAction]):
    async def list_for_target(self, kind: SubjectKind, target_id: uuid.UUID) -> list[EnforcementAction]:
        return [a for a in self.items.values() if (a.target_kind, a.target_id) == (kind, target_id)]

    async def list_for_decision(self, decision_id: uuid.UUID) -> list[EnforcementAction]:
        return [a for a in self.items.values() if a.decision_id == decision_id]


class FakeStrikes(_Store[Strike]):
    async def list_for_account(self, account_id: uuid.UUID) -> list[Strike]:
        return [s for s in self.items.values() if s.account_id == account_id]

    async def list_for_decision(self, decision_id: uuid.UUID) -> list[Strike]:
        return [s for s in self.items.values() if s.decision_id == decision_id]


class FakeStatements(_Store[StatementOfReasons]):
    async def get_for_decision(self, decision_id: uuid.UUID) -> StatementOfReasons | None:
        return next((s for s in self.items.values() if s.decision_id == decision_id), None)

    async def list_in_state(self, state: SubmissionState, *, limit: int | None) -> list[StatementOfReasons]:
        found = sorted((s for s in self.items.values() if s.submission is state), key=lambda s: (s.created_at, s.id))
        return found[:limit] if limit is not None else found

    async def list_in_batch(self, batch_id: uuid.UUID) -> list[StatementOfReasons]:
        return [s for s in self.items.values() if s.batch_id == batch_id]


class FakeAppeals(_Store[Appeal]):
    def __init__(self, decisions: FakeDecisions) -> None:
        super().__init__()
        self.decisions = decisions

    async def get_for_decision(self, decision_id: uuid.UUID) -> Appeal | None:
        return next((a for a in self.items.values() if a.decision_id == decision_id), None)

    async def next_in_queue(self, queue_id: uuid.UUID, *, now: datetime, decider: Actor) -> Appeal | None:
        def may_decide(appeal: Appeal) -> bool:
            d = self.decisions.items[appeal.decision_id]
            return d.decider_id != decider.id and d.decider_seniority <= decider.seniority

        free = [
            a
            for a in self.items.values()
            if a.queue_id == queue_id
            and a.state is AppealState.PENDING
            and (a.lease_expires_at is None or a.lease_expires_at <= now)
            and may_decide(a)
        ]
        latest = datetime.max.replace(tzinfo=UTC)
        return min(free, key=lambda a: (a.sla_due_at or latest, a.filed_at, a.id), default=None)


class FakeQueues(_Store[Queue]):
    def __init__(self, cases: FakeCases) -> None:
        super().__init__()
        self.cases = cases

    async def get_by_name(self, region: Region, name: str) -> Queue | None:
        return next((q for q in self.items.values() if (q.region, q.name) == (region, name)), None)

    async def list_for(self, region: Region, surface: QueueSurface) -> list[Queue]:
        return [q for q in self.items.values() if (q.region, q.surface) == (region, surface)]

    async def next_case(self, queue_id: uuid.UUID, *, now: datetime, escalated: bool) -> Case | None:
        states = {CaseState.OPEN, CaseState.ASSIGNED} | ({CaseState.ESCALATED} if escalated else set())
        free = [
            c
            for c in self.cases.items.values()
            if c.queue_id == queue_id
            and c.state in states
            and (c.lease_expires_at is None or c.lease_expires_at <= now)
        ]
        return min(free, key=lambda c: (c.sla_due_at, -c.priority, c.id), default=None)


class FakeQaReviews(_Store[QaReview]):
    async def get_for_case(self, case_id: uuid.UUID) -> QaReview | None:
        return next((r for r in self.items.values() if r.case_id == case_id), None)


class FakeAutomationRules(_Store[AutomationRule]):
    async def get_for(self, region: Region, policy_id: uuid.UUID, classifier: str) -> AutomationRule | None:
        key = (region, policy_id, classifier)
        return next((r for r in self.items.values() if (r.region, r.policy_id, r.classifier) == key), None)


class FakeStrikeLadders(_Store[LadderVersion]):
    async def in_force(self, region: Region, surface: Surface) -> LadderVersion | None:
        mine = [v for v in self.items.values() if (v.region, v.surface) == (region, surface)]
        return max(mine, key=lambda v: v.number, default=None)


class FakeUnitOfWork:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.accounts = FakeAccounts()
        self.contents = FakeContents()
        self.ads = FakeAds()
        self.policies = FakePolicies()
        self.reports = FakeReports()
        self.cases = FakeCases()
        self.decisions = FakeDecisions()
        self.actions = FakeActions()
        self.strikes = FakeStrikes()
        self.statements_of_reasons = FakeStatements()
        self.appeals = FakeAppeals(self.decisions)
        self.queues = FakeQueues(self.cases)
        self.qa_reviews = FakeQaReviews()
        self.automation_rules = FakeAutomationRules()
        self.strike_ladders = FakeStrikeLadders()

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of every store (entities compare by value), for 'nothing changed' assertions."""
        stores = {name: value for name, value in vars(self).items() if isinstance(value, _Store)}
        state: dict[str, Any] = {name: copy.deepcopy(store.items) for name, store in stores.items()}
        state["policy_versions"] = copy.deepcopy(self.policies.versions)
        return state


class FakeMigratedRules:
    """The rules engine's rules migrated from automation rules, for ``define_automation_rule``."""

    def __init__(self) -> None:
        self.rules: dict[uuid.UUID, list[tuple[Rule, RuleVersion]]] = {}

    async def migrated_from(self, automation_rule_id: uuid.UUID) -> list[tuple[Rule, RuleVersion]]:
        return list(self.rules.get(automation_rule_id, []))
