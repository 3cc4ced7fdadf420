"""Bulk jobs on PostgreSQL: one chunk of a job on four round trips, cancelling, taking over expired leases, reads.

A chunk is a prefetching unit of work (``persistence.fast.prefetched``): ``BEGIN``; one statement that reads the job,
its next PENDING items in order and everything deciding their cases can ask for (the cases, their subjects and
owner accounts, the cited policy and its version in force, the owners' strikes, the actions on subjects and
owners, the strike ladders in force in the cases' regions); the domain's ``decide_case`` per item, in memory; one
write (decisions, strikes, actions, statements of reasons, the changed cases, subjects, items and job, each change
with its audit event); ``COMMIT``. The number of statements does not grow with the chunk. Records outside the
submitter's decide regions are invisible, as in the SQL unit of work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from domain import ports
from domain.account import Account
from domain.ad import Ad
from domain.bulk import BulkItemState, BulkJob, BulkJobItem
from domain.case import Case
from domain.clock import Clock
from domain.content import Content
from domain.decision import Decision
from domain.dsa.statement import StatementOfReasons, SubmissionState
from domain.enforcement import EnforcementAction
from domain.policy import Policy, PolicyVersion
from domain.region import Region
from domain.services.bulk import ChunkReads
from domain.strike import Strike
from domain.strike_ladder import LadderVersion
from domain.subject import SubjectKind, Surface
from persistence.fast.prefetched import ById, PrefetchedPolicies, PrefetchedUnitOfWork, not_loaded, read_only
from persistence.fast.sql import entity_from_json
from persistence.mapping import EntityMapping
from persistence.repositories import (
    ACCOUNTS,
    ACTIONS,
    ADS,
    BULK_ITEMS,
    BULK_JOBS,
    CASES,
    CONTENTS,
    DECISIONS,
    POLICIES,
    POLICY_VERSIONS,
    STATEMENTS,
    STRIKE_LADDERS,
    STRIKES,
)
from persistence.uow import AuditContext

_PENDING = f"'{BulkItemState.PENDING.value}'"

# $1 job id, $2 how many items, $3 the cited policy. Every row is (tag, to_jsonb(row)).
CHUNK_SQL = f"""
WITH items AS (
  SELECT * FROM bulk_job_items WHERE job_id = $1 AND state = {_PENDING} ORDER BY position LIMIT $2
), kc AS (SELECT c.* FROM cases c WHERE c.id IN (SELECT case_id FROM items)),
subjects AS (SELECT subject_id AS id FROM kc UNION SELECT subject_account_id FROM kc)
SELECT 'J' AS k, to_jsonb(j)::text AS j FROM bulk_jobs j WHERE j.id = $1
UNION ALL SELECT 'I', to_jsonb(i)::text FROM items i
UNION ALL SELECT 'K', to_jsonb(c)::text FROM kc c
UNION ALL SELECT 'A', to_jsonb(a)::text FROM accounts a WHERE a.id IN (SELECT id FROM subjects)
UNION ALL SELECT 'C', to_jsonb(t)::text FROM contents t WHERE t.id IN (SELECT id FROM subjects)
UNION ALL SELECT 'D', to_jsonb(d)::text FROM ads d WHERE d.id IN (SELECT id FROM subjects)
UNION ALL SELECT 'P', to_jsonb(p)::text FROM policies p WHERE p.id = $3
UNION ALL SELECT 'V', to_jsonb(v)::text FROM policy_versions v
  JOIN policies vp ON vp.id = v.policy_id AND vp.current_version = v.number WHERE vp.id = $3
UNION ALL SELECT 'S', to_jsonb(s)::text FROM strikes s WHERE s.account_id IN (SELECT subject_account_id FROM kc)
UNION ALL SELECT 'E', to_jsonb(e)::text FROM enforcement_actions e WHERE e.target_id IN (SELECT id FROM subjects)
UNION ALL SELECT 'L', to_jsonb(l)::text FROM (SELECT DISTINCT ON (region, surface) * FROM strike_ladders
  WHERE region IN (SELECT region FROM kc) ORDER BY region, surface, number DESC) l
"""  # noqa: S608 (constants only)

# $1 job id: the job and all its PENDING items (cancelling).
PENDING_SQL = f"""
SELECT 'J' AS k, to_jsonb(j)::text AS j FROM bulk_jobs j WHERE j.id = $1
UNION ALL SELECT 'I', to_jsonb(i)::text FROM bulk_job_items i WHERE i.job_id = $1 AND i.state = {_PENDING}
"""  # noqa: S608

# $1 job id: the job alone (releasing its lease).
JOB_SQL = "SELECT 'J' AS k, to_jsonb(j)::text AS j FROM bulk_jobs j WHERE j.id = $1"

# $1 now: one RUNNING job whose lease expired (its process died), locked so one process takes it over.
EXPIRED_SQL = """
SELECT 'J' AS k, to_jsonb(j)::text AS j FROM bulk_jobs j
WHERE j.state = 'RUNNING' AND (j.lease_expires_at IS NULL OR j.lease_expires_at <= $1)
ORDER BY j.created_at LIMIT 1 FOR UPDATE SKIP LOCKED
"""

_MAPPINGS: dict[str, EntityMapping[Any]] = {
    "J": BULK_JOBS,
    "I": BULK_ITEMS,
    "K": CASES,
    "A": ACCOUNTS,
    "C": CONTENTS,
    "D": ADS,
    "P": POLICIES,
    "V": POLICY_VERSIONS,
    "S": STRIKES,
    "E": ACTIONS,
    "L": STRIKE_LADDERS,
}


@dataclass
class _Loaded:
    job: BulkJob | None = None
    items: list[BulkJobItem] = field(default_factory=list)
    cases: dict[uuid.UUID, Case] = field(default_factory=dict)
    subjects: dict[uuid.UUID, Any] = field(default_factory=dict)
    policies: dict[uuid.UUID, Policy] = field(default_factory=dict)
    versions: dict[uuid.UUID, PolicyVersion] = field(default_factory=dict)
    strikes: list[Strike] = field(default_factory=list)
    actions: list[EnforcementAction] = field(default_factory=list)
    ladders: dict[tuple[Region, Surface], LadderVersion] = field(default_factory=dict)  # the latest version of each


class BulkUnitOfWork(PrefetchedUnitOfWork):
    """One transaction over one job: ``mode`` ``chunk`` (its next ``limit`` PENDING items and what deciding them
    reads), ``pending`` (all its PENDING items, to cancel), ``job`` (the job alone) or ``expired`` (a RUNNING job
    whose lease expired; ``job_id`` is ignored)."""

    engine = "a bulk chunk"

    def __init__(
        self,
        pool: asyncpg.Pool,
        audit: AuditContext,
        job_id: uuid.UUID | None,
        *,
        mode: str = "chunk",
        limit: int = 0,
        policy_id: uuid.UUID | None = None,
        regions: frozenset[str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(pool, audit, regions=regions, clock=clock)
        self._job_id, self._mode, self._limit, self._policy_id = job_id, mode, limit, policy_id
        self.data = _Loaded()
        self._accounts = ById[Account](self.engine, self.data.subjects, Account)
        self._contents = ById[Content](self.engine, self.data.subjects, Content)
        self._ads = ById[Ad](self.engine, self.data.subjects, Ad)
        self._cases = ById[Case](self.engine, self.data.cases, Case)
        self._policies = PrefetchedPolicies(self.engine, self.data.policies, self.data.versions)
        self._decisions = _Decisions(self)
        self._strikes = _Strikes(self)
        self._actions = _Actions(self)
        self._ladders = _Ladders(self)
        self._statements = _Statements(self)

    @classmethod
    def for_chunk(
        cls,
        pool: asyncpg.Pool,
        audit: AuditContext,
        reads: ChunkReads,
        *,
        regions: frozenset[str] | None = None,
        clock: Clock | None = None,
    ) -> BulkUnitOfWork:
        """The unit of work of one chunk (``run_chunk``), reading ``reads``."""
        return cls(
            pool, audit, reads.job_id, limit=reads.limit, policy_id=reads.policy_id, regions=regions, clock=clock
        )

    def begin_sql(self) -> str:
        """``BEGIN`` and, for one job, its row locked first (the same round trip): a chunk and a cancel of the job
        go one after the other, and the one that waited reads what the other committed (its prefetch is the next
        statement), so neither loses a race to the other. The id is a UUID formatted here, never caller text."""
        if self._job_id is None:
            return "BEGIN;"
        return f"BEGIN; SELECT 1 FROM bulk_jobs WHERE id = '{uuid.UUID(str(self._job_id))}' FOR UPDATE;"  # noqa: S608

    async def prefetch(self, conn: Any) -> None:
        if self._mode == "chunk":
            rows = await self.fetch(conn, CHUNK_SQL, self._job_id, self._limit, self._policy_id)
        elif self._mode == "pending":
            rows = await self.fetch(conn, PENDING_SQL, self._job_id)
        elif self._mode == "job":
            rows = await self.fetch(conn, JOB_SQL, self._job_id)
        else:
            rows = await self.fetch(conn, EXPIRED_SQL, self.clock.now())
        data = self.data
        for row in rows:
            tag = row["k"]
            mapping = _MAPPINGS[tag]
            entity = entity_from_json(mapping, row["j"])
            if not self.visible(entity):
                continue
            if tag == "J":
                data.job = self.track(mapping, entity)
            elif tag == "I":
                data.items.append(self.track(mapping, entity))
            elif tag == "K":
                data.cases[entity.id] = self.track(mapping, entity)
            elif tag in ("A", "C", "D"):
                data.subjects[entity.id] = self.track(mapping, entity)
            elif tag == "P":
                data.policies[entity.id] = read_only(entity)
            elif tag == "V":
                data.versions[entity.policy_id] = read_only(entity)
            elif tag == "S":
                data.strikes.append(self.track(mapping, entity))
            elif tag == "L":
                data.ladders[(entity.region, entity.surface)] = read_only(entity)
            else:
                data.actions.append(self.track(mapping, entity))
        data.items.sort(key=lambda i: i.position)

    def changes(self) -> int:
        """How many records this unit of work has added so far (an item that fails must not have added any)."""
        return len(self.change_set)

    # -- the port: what deciding a chunk loads -------------------------------------------------------------
    @property
    def accounts(self) -> ports.AccountRepository:
        return self._accounts

    @property
    def contents(self) -> ports.ContentRepository:
        return self._contents

    @property
    def ads(self) -> ports.AdRepository:
        return self._ads

    @property
    def cases(self) -> ports.CaseRepository:
        return self._cases

    @property
    def policies(self) -> ports.PolicyRepository:
        return self._policies

    @property
    def decisions(self) -> ports.DecisionRepository:
        return self._decisions

    @property
    def strikes(self) -> ports.StrikeRepository:
        return self._strikes

    @property
    def actions(self) -> ports.EnforcementRepository:
        return self._actions

    @property
    def strike_ladders(self) -> ports.StrikeLadderRepository:
        return self._ladders

    @property
    def statements_of_reasons(self) -> ports.StatementRepository:
        return self._statements


class _Ladders:
    def __init__(self, uow: BulkUnitOfWork) -> None:
        self._uow = uow

    async def in_force(self, region: Region, surface: Surface) -> LadderVersion | None:
        return self._uow.data.ladders.get((region, surface))

    async def get(self, id: uuid.UUID) -> LadderVersion | None:
        raise not_loaded(self._uow.engine, "strike ladders by id")

    def add(self, version: LadderVersion) -> None:
        raise not_loaded(self._uow.engine, "new strike ladders")


class _Statements:
    """Statements of reasons: the chunk only adds them."""

    def __init__(self, uow: BulkUnitOfWork) -> None:
        self._uow = uow

    def add(self, statement: StatementOfReasons) -> None:
        self._uow.add(STATEMENTS, statement)

    async def get_for_decision(self, decision_id: uuid.UUID) -> StatementOfReasons | None:
        raise not_loaded(self._uow.engine, "statements of reasons")

    async def list_in_state(self, state: SubmissionState, *, limit: int | None) -> list[StatementOfReasons]:
        raise not_loaded(self._uow.engine, "statements of reasons")

    async def list_in_batch(self, batch_id: uuid.UUID) -> list[StatementOfReasons]:
        raise not_loaded(self._uow.engine, "statements of reasons")


class _Decisions:
    def __init__(self, uow: BulkUnitOfWork) -> None:
        self._uow = uow

    async def get(self, id: uuid.UUID) -> Decision | None:
        raise not_loaded(self._uow.engine, "earlier decisions")

    def add(self, decision: Decision) -> None:
        self._uow.add(DECISIONS, decision)


class _Strikes:
    def __init__(self, uow: BulkUnitOfWork) -> None:
        self._uow = uow

    async def list_for_account(self, account_id: uuid.UUID) -> list[Strike]:
        return [s for s in self._uow.data.strikes if s.account_id == account_id]

    async def list_for_decision(self, decision_id: uuid.UUID) -> list[Strike]:
        return [s for s in self._uow.data.strikes if s.decision_id == decision_id]

    def add(self, strike: Strike) -> None:
        self._uow.add(STRIKES, strike)
        self._uow.data.strikes.append(strike)


class _Actions:
    def __init__(self, uow: BulkUnitOfWork) -> None:
        self._uow = uow

    async def list_for_target(self, kind: SubjectKind, target_id: uuid.UUID) -> list[EnforcementAction]:
        return [a for a in self._uow.data.actions if a.target_kind is kind and a.target_id == target_id]

    async def list_for_decision(self, decision_id: uuid.UUID) -> list[EnforcementAction]:
        return [a for a in self._uow.data.actions if a.decision_id == decision_id]

    def add(self, action: EnforcementAction) -> None:
        self._uow.add(ACTIONS, action)
        self._uow.data.actions.append(action)


# -- reads ----------------------------------------------------------------------------------------------------
async def get_job(pool: asyncpg.Pool, job_id: uuid.UUID) -> BulkJob | None:
    text = await pool.fetchval("SELECT to_jsonb(j)::text FROM bulk_jobs j WHERE j.id = $1", job_id)
    return None if text is None else entity_from_json(BULK_JOBS, text)


async def list_items(pool: asyncpg.Pool, job_id: uuid.UUID, after: int, first: int) -> list[BulkJobItem]:
    """Items after position ``after`` (-1: from the start), in order, at most ``first``."""
    rows = await pool.fetch(
        "SELECT to_jsonb(i)::text AS j FROM bulk_job_items i WHERE i.job_id = $1 AND i.position > $2 "
        "ORDER BY i.position LIMIT $3",
        job_id,
        after,
        first,
    )
    return [entity_from_json(BULK_ITEMS, r["j"]) for r in rows]


async def roles_now(pool: asyncpg.Pool, principal_id: uuid.UUID) -> frozenset[tuple[str, str]]:
    """A staff principal's (role, region) assignments as they stand (a running job re-checks its submitter)."""
    rows = await pool.fetch("SELECT role, region FROM role_assignments WHERE principal_id = $1", principal_id)
    return frozenset((r["role"], r["region"]) for r in rows)
