"""Per-request DataLoaders: one batched statement per kind per level, each batch in its own short session
(an AsyncSession is never shared by concurrent resolvers)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Any, TypeVar

from api.graphql.shared.dataloader import DataLoader
from authz.enforcer import PermissionMap
from domain.account import Account
from domain.ad import Ad
from domain.appeal import Appeal
from domain.case import Case
from domain.content import Content
from domain.decision import Decision
from domain.dsa.authority_order import AuthorityOrder
from domain.dsa.out_of_court_dispute import OutOfCourtDispute
from domain.dsa.statement import StatementOfReasons
from domain.enforcement import EnforcementAction
from domain.policy import Policy, PolicyVersion
from domain.report import Report
from domain.strike import Strike
from domain.strike_ladder import LadderVersion
from persistence.db import SessionFactory
from persistence.dsa_records import AUTHORITY_ORDERS, DISPUTES
from persistence.fast.sql import Pool
from persistence.mapping import EntityMapping
from persistence.queries import reads
from persistence.repositories import (
    ACCOUNTS,
    ACTIONS,
    ADS,
    APPEALS,
    CASES,
    CONTENTS,
    DECISIONS,
    POLICIES,
    POLICY_VERSIONS,
    REPORTS,
    STATEMENTS,
    STRIKE_LADDERS,
    STRIKES,
)

E = TypeVar("E")
K = TypeVar("K")
V = TypeVar("V")


class Loaders:
    def __init__(self, sessions: SessionFactory, permissions: PermissionMap, pool: Pool | None = None) -> None:
        """With ``pool`` (the running app), batches run on the plain asyncpg pool; without, in short sessions."""
        self.sessions = sessions
        self.pool = pool
        self.permissions = permissions
        self.statements = 0  # batches issued by this request's loaders (tests pin it)
        self.readable: dict[tuple[str, str | None], bool] = {}
        """Whether ``permissions`` reads a record type in a region, by (type name, region): the request's read
        checks (``api.graphql.shared.visibility``) ask a few a thousand times over; the map is immutable."""
        self._reports_by_case: dict[int, DataLoader[uuid.UUID, list[Report]]] = {}

    def _loader(self, fetch: Callable[[Any, Sequence[K]], Awaitable[list[V]]]) -> DataLoader[K, V]:
        async def batch(keys: list[K]) -> list[V]:
            self.statements += 1
            async with self.sessions() as session:
                return await fetch(session, keys)

        return DataLoader(load_fn=batch)

    def _by_id(self, mapping: EntityMapping[E]) -> DataLoader[uuid.UUID, E | None]:
        if self.pool is not None:
            return self._pooled(lambda p, keys: reads.fetch_by_ids(p, mapping, keys))
        return self._loader(lambda s, keys: reads.load_by_ids(s, mapping, keys))

    def _grouped(
        self, mapping: EntityMapping[E], column: str, order_by: str = "created_at", limit: int | None = None
    ) -> DataLoader[Any, list[E]]:
        if self.pool is not None:
            return self._pooled(
                lambda p, keys: reads.fetch_grouped(p, mapping, column, keys, order_by=order_by, limit=limit)
            )
        return self._loader(
            lambda s, keys: reads.load_grouped(s, mapping, column, keys, order_by=order_by, limit=limit)
        )

    def _pooled(self, fetch: Callable[[Pool, Sequence[K]], Awaitable[list[V]]]) -> DataLoader[K, V]:
        pool = self.pool

        async def batch(keys: list[K]) -> list[V]:
            self.statements += 1
            return await fetch(pool, keys)

        return DataLoader(load_fn=batch)

    # -- by id ----------------------------------------------------------------------------------------------
    @cached_property
    def account(self) -> DataLoader[uuid.UUID, Account | None]:
        return self._by_id(ACCOUNTS)

    @cached_property
    def content(self) -> DataLoader[uuid.UUID, Content | None]:
        return self._by_id(CONTENTS)

    @cached_property
    def ad(self) -> DataLoader[uuid.UUID, Ad | None]:
        return self._by_id(ADS)

    @cached_property
    def policy(self) -> DataLoader[uuid.UUID, Policy | None]:
        return self._by_id(POLICIES)

    @cached_property
    def policy_version(self) -> DataLoader[uuid.UUID, PolicyVersion | None]:
        return self._by_id(POLICY_VERSIONS)

    @cached_property
    def strike_ladder(self) -> DataLoader[uuid.UUID, LadderVersion | None]:
        return self._by_id(STRIKE_LADDERS)

    @cached_property
    def report(self) -> DataLoader[uuid.UUID, Report | None]:
        return self._by_id(REPORTS)

    @cached_property
    def case(self) -> DataLoader[uuid.UUID, Case | None]:
        return self._by_id(CASES)

    @cached_property
    def decision(self) -> DataLoader[uuid.UUID, Decision | None]:
        return self._by_id(DECISIONS)

    @cached_property
    def action(self) -> DataLoader[uuid.UUID, EnforcementAction | None]:
        return self._by_id(ACTIONS)

    @cached_property
    def strike(self) -> DataLoader[uuid.UUID, Strike | None]:
        return self._by_id(STRIKES)

    @cached_property
    def appeal(self) -> DataLoader[uuid.UUID, Appeal | None]:
        return self._by_id(APPEALS)

    @cached_property
    def authority_order(self) -> DataLoader[uuid.UUID, AuthorityOrder | None]:
        return self._by_id(AUTHORITY_ORDERS)

    @cached_property
    def out_of_court_dispute(self) -> DataLoader[uuid.UUID, OutOfCourtDispute | None]:
        return self._by_id(DISPUTES)

    # -- by parent ------------------------------------------------------------------------------------------
    def reports_by_case(self, limit: int) -> DataLoader[uuid.UUID, list[Report]]:
        """The first `limit` reports of each case (one loader per distinct limit asked for in the request)."""
        loader = self._reports_by_case.get(limit)
        if loader is None:
            loader = self._grouped(REPORTS, "case_id", limit=limit)
            self._reports_by_case[limit] = loader
        return loader

    @cached_property
    def decisions_by_case(self) -> DataLoader[uuid.UUID, list[Decision]]:
        return self._grouped(DECISIONS, "case_id", "decided_at")

    @cached_property
    def actions_by_decision(self) -> DataLoader[uuid.UUID, list[EnforcementAction]]:
        return self._grouped(ACTIONS, "decision_id")

    @cached_property
    def actions_by_target(self) -> DataLoader[uuid.UUID, list[EnforcementAction]]:
        return self._grouped(ACTIONS, "target_id")

    @cached_property
    def statements_by_decision(self) -> DataLoader[uuid.UUID, list[StatementOfReasons]]:
        return self._grouped(STATEMENTS, "decision_id")

    @cached_property
    def strikes_by_decision(self) -> DataLoader[uuid.UUID, list[Strike]]:
        return self._grouped(STRIKES, "decision_id")

    @cached_property
    def strikes_by_account(self) -> DataLoader[uuid.UUID, list[Strike]]:
        return self._grouped(STRIKES, "account_id", "issued_at")

    @cached_property
    def appeals_by_decision(self) -> DataLoader[uuid.UUID, list[Appeal]]:
        return self._grouped(APPEALS, "decision_id")

    @cached_property
    def versions_by_policy(self) -> DataLoader[uuid.UUID, list[PolicyVersion]]:
        return self._grouped(POLICY_VERSIONS, "policy_id", "number")
