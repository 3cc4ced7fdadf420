"""Rules and their versions in PostgreSQL (``domain.services.rules.RuleStore``) on the SQL unit of work: each write
is audited by hand in the same transaction (``SqlUnitOfWork.record``); a rule of a region outside the unit of
work's regions does not exist. Also the reads of the rules API (pages, versions)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError
from domain.region import Region
from domain.rules import ListKind
from domain.services.rules import Rule, RuleState, RuleVersion
from persistence.pagination import Page, encode_cursor, keyset
from persistence.tables.automation import automation_rules
from persistence.tables.operations import queues
from persistence.tables.policies import policies as policies_table
from persistence.tables.rules import named_lists, rule_hits, rule_versions, rules
from persistence.uow import RecordKind, SqlUnitOfWork, Subject

RULE = RecordKind("Rule")
DEFAULT_SIGNALS = frozenset({"spam", "toxicity", "nudity", "hate", "scam", "violence"})
"""Classifier names rules may read beyond those of the region's automation rules."""


def rule_of(row: Mapping[str, Any] | sa.RowMapping) -> Rule:
    return Rule(
        id=row["id"],
        region=Region(row["region"]),
        name=row["name"],
        state=RuleState(row["state"]),
        current_version=row["current_version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def version_of(row: Mapping[str, Any] | sa.RowMapping) -> RuleVersion:
    return RuleVersion(
        id=row["id"],
        rule_id=row["rule_id"],
        number=row["number"],
        state=RuleState(row["state"]),
        source=row["source"],
        description=row["description"],
        policy_id=row["policy_id"],
        daily_action_cap=row["daily_action_cap"],
        expires_at=row["expires_at"],
        author_id=row["author_id"],
        created_at=row["created_at"],
        migrated_from=row["migrated_from"],
    )


def _rule_row(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "region": rule.region.value,
        "name": rule.name,
        "state": rule.state.value,
        "current_version": rule.current_version,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
        "version": rule.version,
    }


def _version_row(version: RuleVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "rule_id": version.rule_id,
        "number": version.number,
        "state": version.state.value,
        "source": version.source,
        "description": version.description,
        "policy_id": version.policy_id,
        "daily_action_cap": version.daily_action_cap,
        "expires_at": version.expires_at,
        "author_id": version.author_id,
        "migrated_from": version.migrated_from,
        "created_at": version.created_at,
    }


def _audited(version: RuleVersion) -> dict[str, Any]:
    row = _version_row(version)
    return {k: v for k, v in row.items() if k not in {"id", "rule_id", "created_at"}}


class SqlRuleStore:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def _session(self) -> AsyncSession:
        return self._uow.session

    def _visible(self, region: str) -> bool:
        return self._uow.regions is None or region in self._uow.regions

    async def rule(self, rule_id: uuid.UUID) -> tuple[Rule, RuleVersion] | None:
        row = (await self._session.execute(sa.select(rules).where(rules.c.id == rule_id))).mappings().first()
        if row is None or not self._visible(row["region"]):
            return None
        current = rule_versions.c.rule_id == rule_id, rule_versions.c.number == row["current_version"]
        vrow = (await self._session.execute(sa.select(rule_versions).where(*current))).mappings().one()
        return rule_of(row), version_of(vrow)

    async def name_taken(self, region: Region, name: str) -> bool:
        stmt = sa.select(sa.func.count()).where(rules.c.region == region.value, rules.c.name == name)
        return bool((await self._session.execute(stmt)).scalar_one())

    async def list_kinds(self, region: Region) -> dict[str, ListKind]:
        stmt = sa.select(named_lists.c.name, named_lists.c.kind).where(named_lists.c.region == region.value)
        return {name: ListKind(kind) for name, kind in (await self._session.execute(stmt)).all()}

    async def policies(self) -> dict[str, uuid.UUID]:
        stmt = sa.select(policies_table.c.code, policies_table.c.id)
        return {code: pid for code, pid in (await self._session.execute(stmt)).all()}

    async def signals(self, region: Region) -> frozenset[str]:
        stmt = sa.select(automation_rules.c.classifier).where(automation_rules.c.region == region.value).distinct()
        return DEFAULT_SIGNALS | frozenset((await self._session.execute(stmt)).scalars())

    async def queue_names(self, region: Region) -> frozenset[str]:
        stmt = sa.select(queues.c.name).where(queues.c.region == region.value, queues.c.surface != "APPEALS")
        return frozenset((await self._session.execute(stmt)).scalars())

    async def add(self, rule: Rule, version: RuleVersion, *, operation: str) -> None:
        await self._session.execute(sa.insert(rules).values(_rule_row(rule)))
        await self._session.execute(sa.insert(rule_versions).values(_version_row(version)))
        after = {"name": rule.name, **_audited(version)}
        self._uow.record(RULE, Subject(rule.id, rule.region.value), action=operation, after=after)

    async def add_version(self, rule: Rule, version: RuleVersion, *, loaded_version: int, operation: str) -> None:
        values = {k: v for k, v in _rule_row(rule).items() if k not in {"id", "region", "name", "created_at"}}
        result = await self._session.execute(
            sa.update(rules).where(rules.c.id == rule.id, rules.c.version == loaded_version).values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise DomainError.conflict("the rule was changed by someone else; reload and try again", "ruleId")
        await self._session.execute(sa.insert(rule_versions).values(_version_row(version)))
        self._uow.record(RULE, Subject(rule.id, rule.region.value), action=operation, after=_audited(version))


async def rule_page(
    session: AsyncSession,
    *,
    regions: frozenset[str] | None,
    states: Sequence[RuleState],
    first: int,
    after: str | None,
) -> Page[Rule]:
    """Rules, newest first, in ``regions`` (None: all)."""
    stmt = sa.select(rules)
    if regions is not None:
        stmt = stmt.where(rules.c.region.in_(sorted(regions)))
    if states:
        stmt = stmt.where(rules.c.state.in_([s.value for s in states]))
    stmt = keyset(stmt, rules.c.created_at, rules.c.id, first=first, after=after)
    rows = list((await session.execute(stmt)).mappings())
    has_next = len(rows) > first
    rows = rows[:first]
    items = [rule_of(r) for r in rows]
    return Page(items, [encode_cursor(r.created_at, r.id) for r in items], has_next, after is not None)


async def versions_of(session: AsyncSession, rule_id: uuid.UUID) -> list[RuleVersion]:
    """Every version of a rule, newest first."""
    stmt = sa.select(rule_versions).where(rule_versions.c.rule_id == rule_id).order_by(rule_versions.c.number.desc())
    return [version_of(r) for r in (await session.execute(stmt)).mappings()]


async def rule_by_id(session: AsyncSession, rule_id: uuid.UUID) -> tuple[Rule, RuleVersion] | None:
    """A rule and its version in force (any region: the caller checks it may read it)."""
    row = (await session.execute(sa.select(rules).where(rules.c.id == rule_id))).mappings().first()
    if row is None:
        return None
    current = rule_versions.c.rule_id == rule_id, rule_versions.c.number == row["current_version"]
    vrow = (await session.execute(sa.select(rule_versions).where(*current))).mappings().one()
    return rule_of(row), version_of(vrow)


async def current_versions(session: AsyncSession, found: Sequence[Rule]) -> dict[uuid.UUID, RuleVersion]:
    """The versions in force of a page of rules, in one statement."""
    if not found:
        return {}
    keys = [sa.tuple_(sa.literal(r.id), sa.literal(r.current_version)) for r in found]
    stmt = sa.select(rule_versions).where(sa.tuple_(rule_versions.c.rule_id, rule_versions.c.number).in_(keys))
    return {v.rule_id: v for v in map(version_of, (await session.execute(stmt)).mappings())}


async def hit_page(session: AsyncSession, rule_id: uuid.UUID, *, first: int, after: str | None) -> Page[Any]:
    """A rule's hits, newest first (rows as mappings)."""
    stmt = keyset(
        sa.select(rule_hits).where(rule_hits.c.rule_id == rule_id),
        rule_hits.c.created_at,
        rule_hits.c.id,
        first=first,
        after=after,
    )
    rows = list((await session.execute(stmt)).mappings())
    items = rows[:first]
    return Page(items, [encode_cursor(r["created_at"], r["id"]) for r in items], len(rows) > first, after is not None)
