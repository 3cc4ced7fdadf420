"""Report intake's unit of work: the domain's ``submit_report`` unchanged, on two round trips for any batch.

1. one read of everything intake can ask for: reports by idempotency key, the subjects, the policies with their
   versions in force, the subjects' open cases and the queues of their regions;
2. after the domain has folded the reports in memory, one write: new cases, changed cases (guarded by the
   version they were loaded at), new reports and their audit events, as data-modifying CTEs over ``unnest``.

When the reports' regions have rules (``IntakeReads.rule_regions``), the read also takes the subjects' owners
(their platform ids name the reports' events), and the write also inserts the rules' backlog row noting those
events (``note_for_rules``): the reports and their note commit together, in the one statement.

That first attempt runs unlocked (optimistic mode of ``persistence.fast.prefetched``): each statement is its own
transaction, and a write that lost a race applies nothing. The retry runs locked: ``BEGIN`` with the advisory
locks of every subject in the batch in key order, the same read and write, ``COMMIT``. The subject lock
serialises everything that opens or folds into a subject's case (the SQL unit of work's ``find_open_for_subject``
takes the same lock), so a crowd reporting one post queues up on its retries instead of racing, and each report
is counted. Repositories answer from the prefetched rows; a read outside that set is a programming
error and raises. Records outside the caller's regions are invisible, as in the SQL unit of work.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from domain import ports
from domain.account import Account
from domain.ad import Ad
from domain.automation import AutomationRule
from domain.case import OPEN_STATES, Case
from domain.clock import Clock
from domain.content import Content
from domain.policy import Policy, PolicyVersion
from domain.queue import Queue, QueueSurface
from domain.region import Region
from domain.report import Report
from domain.services.report import IntakeReads
from domain.subject import SubjectKind
from persistence import rule_backlog
from persistence.fast.prefetched import ById, LostRace, PrefetchedPolicies, PrefetchedUnitOfWork, not_loaded, read_only
from persistence.fast.sql import entity_from_json, lock_key, lock_subjects_sql
from persistence.mapping import EntityMapping
from persistence.repositories import (
    ACCOUNTS,
    ADS,
    AUTOMATION_RULES,
    CASES,
    CONTENTS,
    POLICIES,
    POLICY_VERSIONS,
    QUEUES,
    REPORTS,
)
from persistence.rule_backlog import Note
from persistence.uow import AuditContext

_OPEN = "(" + ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATES)) + ")"
_SUBJECT_REGIONS = (
    "SELECT region FROM contents WHERE id = ANY($3) UNION SELECT region FROM accounts WHERE id = ANY($4) "
    "UNION SELECT region FROM ads WHERE id = ANY($5)"
)


# One statement, one row per record it finds, each as ``(tag, to_jsonb(row))``: $1 reporter, $2 idempotency keys,
# $3/$4/$5 content/account/ad ids, $6 policy ids, $7 the subjects' lock keys: the last row ('L') says whether
# they were all free (an unlocked attempt finding one held goes locked at once; a locked one holds them itself).
# (Rows padded to one wide column list cost PostgreSQL ten times more to plan and send than one JSON value each.)
# The reports are read key by key (``LIMIT 1``: the idempotency index holds one row a key), which leaves the plan
# one way to find them, the idempotency index. The pools plan a statement once for any parameters
# (``SESSION_SETTINGS``), and such a plan weighs a reporter as the average one: written as ``reporter_id = $1 AND
# idempotency_key = ANY($2)``, it took an array of ten keys to cost ten index searches against one search of the
# reporter's own reports (``ix_reports_reporter_created``, "two rows"), and then read every report of the reporter:
# a platform service's millionth report read a million rows (``tests/integration/test_intake_plan.py``).
# Open cases are found the same way, subject by subject (``LIMIT 1``: one open case a subject) on the kind and id, the
# two columns of their index (``uq_cases_one_open_per_subject``). By id alone, PostgreSQL 15 read every case (a
# sequential scan, 7 ms a report at 50,000 cases; 18 skips through the index); by kind and ids in one condition, a
# plan made while few cases were open read every open case through the state indexes instead.
PREFETCH = f"""
SELECT 'R' AS k, to_jsonb(r)::text AS j FROM unnest($2::text[]) AS wanted(key) CROSS JOIN LATERAL (
  SELECT * FROM reports WHERE reporter_id = $1 AND idempotency_key = wanted.key LIMIT 1) AS r
UNION ALL SELECT 'C', to_jsonb(c)::text FROM contents c WHERE c.id = ANY($3)
UNION ALL SELECT 'A', to_jsonb(a)::text FROM accounts a WHERE a.id = ANY($4)
UNION ALL SELECT 'D', to_jsonb(d)::text FROM ads d WHERE d.id = ANY($5)
UNION ALL SELECT 'P', to_jsonb(p)::text FROM policies p WHERE p.id = ANY($6)
UNION ALL SELECT 'V', to_jsonb(v)::text FROM policy_versions v
  JOIN policies vp ON vp.id = v.policy_id AND vp.current_version = v.number WHERE vp.id = ANY($6)
UNION ALL SELECT 'K', to_jsonb(k)::text FROM (
  SELECT '{SubjectKind.CONTENT.value}' AS kind, id FROM unnest($3::uuid[]) AS id
  UNION ALL SELECT '{SubjectKind.ACCOUNT.value}', id FROM unnest($4::uuid[]) AS id
  UNION ALL SELECT '{SubjectKind.AD.value}', id FROM unnest($5::uuid[]) AS id
) AS wanted_subject CROSS JOIN LATERAL (
  SELECT * FROM cases WHERE subject_kind = wanted_subject.kind AND subject_id = wanted_subject.id AND state IN {_OPEN}
  LIMIT 1) AS k
UNION ALL SELECT 'Q', to_jsonb(q)::text FROM queues q WHERE q.region IN ({_SUBJECT_REGIONS})
UNION ALL SELECT 'L', (SELECT bool_and(pg_try_advisory_xact_lock(key)) FROM unnest($7::bigint[]) AS key)::text
"""  # noqa: S608 (constants only)
# With a classifier ($8): also the automation rules of the subjects' regions for it and the policies (a signal).
_RULES = f"""UNION ALL SELECT 'U', to_jsonb(u)::text FROM automation_rules u
  WHERE u.classifier = $8 AND u.policy_id = ANY($6) AND u.region IN ({_SUBJECT_REGIONS})
"""  # noqa: S608 (constants only)
PREFETCH_SIGNAL = PREFETCH + _RULES
# With rule regions (the next parameter): the owners of the contents and ads in those regions (a report's event
# names its subject's owner by platform id).
_OWNERS = """UNION ALL SELECT 'O', to_jsonb(o)::text FROM accounts o WHERE o.id IN (
  SELECT owner_account_id FROM contents WHERE id = ANY($3) AND region = ANY(${n}::text[])
  UNION SELECT advertiser_account_id FROM ads WHERE id = ANY($5) AND region = ANY(${n}::text[]))
"""


@functools.cache
def prefetch_sql(classifier: bool, owners: bool) -> str:
    """The prefetch for a read set: with a classifier's automation rules ($8), with the owners (the last one)."""
    sql = PREFETCH_SIGNAL if classifier else PREFETCH
    return sql + _OWNERS.format(n=9 if classifier else 8) if owners else sql


_MAPPINGS: dict[str, EntityMapping[Any]] = {
    "R": REPORTS,
    "C": CONTENTS,
    "A": ACCOUNTS,
    "D": ADS,
    "P": POLICIES,
    "V": POLICY_VERSIONS,
    "K": CASES,
    "Q": QUEUES,
    "U": AUTOMATION_RULES,
    "O": ACCOUNTS,
}


@dataclass
class _Loaded:
    reports: dict[str, Report] = field(default_factory=dict)  # by idempotency key (this reporter)
    subjects: dict[uuid.UUID, Any] = field(default_factory=dict)
    policies: dict[uuid.UUID, Policy] = field(default_factory=dict)
    versions: dict[uuid.UUID, PolicyVersion] = field(default_factory=dict)  # in force, by policy id
    cases: dict[uuid.UUID, Case] = field(default_factory=dict)  # open, by subject id
    queues: dict[uuid.UUID, Queue] = field(default_factory=dict)
    rules: list[AutomationRule] = field(default_factory=list)


class IntakeUnitOfWork(PrefetchedUnitOfWork):
    """``async with IntakeUnitOfWork(pool, audit, IntakeReads.of(actor, cmds), regions=...) as uow:`` then the
    domain's ``submit_report`` / ``submit_reports`` on it. Leaving without an error writes and commits."""

    engine = "report intake"

    def __init__(
        self,
        pool: asyncpg.Pool,
        audit: AuditContext,
        reads: IntakeReads,
        *,
        regions: frozenset[str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(pool, audit, regions=regions, clock=clock)
        self._reads = reads
        self._data = loaded = _Loaded()
        self._reports = _Reports(self, loaded)
        self._cases = _Cases(self, loaded)
        self._contents = ById[Content](self.engine, loaded.subjects, Content)
        self._accounts = ById[Account](self.engine, loaded.subjects, Account)
        self._ads = ById[Ad](self.engine, loaded.subjects, Ad)
        self._policies = PrefetchedPolicies(self.engine, loaded.policies, loaded.versions)
        self._queues = _Queues(self.engine, loaded)
        self._rules = _Rules(self.engine, loaded)
        self._notes: list[Note] = []

    def begin_sql(self) -> str:
        return lock_subjects_sql([subject_id for _, subject_id in self._reads.subjects])

    def unlocked_guard(self) -> list[int]:
        return sorted({lock_key(subject_id) for _, subject_id in self._reads.subjects})

    async def prefetch(self, conn: Any) -> None:
        reads = self._reads
        by_kind: dict[SubjectKind, list[uuid.UUID]] = {k: [] for k in SubjectKind}
        for kind, subject_id in reads.subjects:
            by_kind[kind].append(subject_id)
        keys, policies = list(reads.idempotency_keys), list(reads.policy_ids)
        accounts, contents, ads = by_kind[SubjectKind.ACCOUNT], by_kind[SubjectKind.CONTENT], by_kind[SubjectKind.AD]
        locks = self.unlocked_guard()
        args: list[Any] = [reads.reporter_id, keys, contents, accounts, ads, policies, locks]
        if reads.classifier is not None:
            args.append(reads.classifier)
        if reads.rule_regions:
            args.append(sorted(reads.rule_regions))
        rows = await self.fetch(conn, prefetch_sql(reads.classifier is not None, bool(reads.rule_regions)), *args)
        data = self._data
        for row in rows:
            tag = row["k"]
            if tag == "L":
                if self.optimistic and row["j"] == "false":
                    raise LostRace("another request holds a subject's lock: wait for it")
                continue
            entity = entity_from_json(_MAPPINGS[tag], row["j"])
            if not self.visible(entity):
                continue
            if tag != "K":  # only the open cases are tracked: intake changes nothing else it reads
                entity = read_only(entity)
            if tag == "R":
                data.reports[entity.idempotency_key] = entity
            elif tag in ("C", "A", "D", "O"):  # an owner answers accounts.get like a subject
                data.subjects[entity.id] = entity
            elif tag == "P":
                data.policies[entity.id] = entity
            elif tag == "V":
                data.versions[entity.policy_id] = entity
            elif tag == "K":
                data.cases[entity.subject_id] = self.track(CASES, entity)
            elif tag == "U":
                data.rules.append(entity)
            else:
                data.queues[entity.id] = entity

    # -- the rules' backlog: in the write statement ---------------------------------------------------------
    def note_for_rules(self, note: Note) -> None:
        """A row of the rules' backlog (``persistence.rule_backlog``), inserted by the write statement itself: it
        commits, or not, with the reports it names."""
        self._notes.append(note)

    def extra_write(self, first_param: int) -> tuple[str, list[Any]] | None:
        return rule_backlog.notes_cte(self._notes, first_param) if self._notes else None

    # -- the port: what report intake loads --------------------------------------------------------------
    @property
    def reports(self) -> ports.ReportRepository:
        return self._reports

    @property
    def cases(self) -> ports.CaseRepository:
        return self._cases

    @property
    def contents(self) -> ports.ContentRepository:
        return self._contents

    @property
    def accounts(self) -> ports.AccountRepository:
        return self._accounts

    @property
    def ads(self) -> ports.AdRepository:
        return self._ads

    @property
    def policies(self) -> ports.PolicyRepository:
        return self._policies

    @property
    def queues(self) -> ports.QueueRepository:
        return self._queues

    @property
    def automation_rules(self) -> ports.AutomationRuleRepository:
        if self._reads.classifier is None:
            raise not_loaded(self.engine, "automation rules (no classifier in its read set)")
        return self._rules


class _Reports:
    def __init__(self, uow: IntakeUnitOfWork, loaded: _Loaded) -> None:
        self._uow, self._loaded = uow, loaded

    async def get(self, id: uuid.UUID) -> Report | None:
        raise not_loaded(self._uow.engine, "reports by id")

    async def get_by_idempotency_key(self, reporter_id: str, key: str) -> Report | None:
        if reporter_id != self._uow._reads.reporter_id:
            raise AssertionError("report intake prefetches one reporter's keys")
        return self._loaded.reports.get(key)

    def add(self, report: Report) -> None:
        self._uow.add(REPORTS, report)
        if report.idempotency_key is not None:
            self._loaded.reports[report.idempotency_key] = report


class _Cases:
    def __init__(self, uow: IntakeUnitOfWork, loaded: _Loaded) -> None:
        self._uow, self._loaded = uow, loaded

    async def get(self, id: uuid.UUID) -> Case | None:
        return next((c for c in self._loaded.cases.values() if c.id == id), None)

    async def find_open_for_subject(self, kind: SubjectKind, subject_id: uuid.UUID) -> Case | None:
        case = self._loaded.cases.get(subject_id)
        return case if case is not None and case.subject_kind is kind and case.is_open else None

    def add(self, case: Case) -> None:
        self._uow.add(CASES, case)
        self._loaded.cases[case.subject_id] = case


class _Queues:
    def __init__(self, engine: str, loaded: _Loaded) -> None:
        self._engine, self._loaded = engine, loaded

    async def get(self, id: uuid.UUID) -> Queue | None:
        return self._loaded.queues.get(id)

    async def list_for(self, region: Region, surface: QueueSurface) -> list[Queue]:
        return [q for q in self._loaded.queues.values() if q.region is region and q.surface is surface]

    async def get_by_name(self, region: Region, name: str) -> Queue | None:
        raise not_loaded(self._engine, "queues by name")

    async def next_case(self, queue_id: uuid.UUID, *, now: datetime, escalated: bool) -> Case | None:
        raise not_loaded(self._engine, "claimable cases")

    def add(self, queue: Queue) -> None:
        raise not_loaded(self._engine, "new queues")


class _Rules:
    """A signal's automation rules: those of the subjects' regions for its classifier and policies."""

    def __init__(self, engine: str, loaded: _Loaded) -> None:
        self._engine, self._loaded = engine, loaded

    async def get_for(self, region: Region, policy_id: uuid.UUID, classifier: str) -> AutomationRule | None:
        return next(
            (
                r
                for r in self._loaded.rules
                if r.region is region and r.policy_id == policy_id and r.classifier == classifier
            ),
            None,
        )

    async def get(self, id: uuid.UUID) -> AutomationRule | None:
        raise not_loaded(self._engine, "automation rules by id")

    def add(self, rule: AutomationRule) -> None:
        raise not_loaded(self._engine, "new automation rules")
