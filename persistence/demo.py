"""What the demo seed (``api.services.seed``, ``api.services.seed_staff``) reads to stay idempotent: which of its
records exist already. Everything it writes goes through the domain services and the unit of work."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.tables.auth import principals
from persistence.tables.automation import automation_rules
from persistence.tables.moderated import accounts
from persistence.tables.operations import queues
from persistence.tables.policies import policies


async def policy_ids(session: AsyncSession) -> dict[str, uuid.UUID]:
    """Every policy's id by its code."""
    rows = await session.execute(sa.select(policies.c.code, policies.c.id))
    return {code: pid for code, pid in rows}


async def queue_ids(session: AsyncSession, region: str) -> dict[str, uuid.UUID]:
    """The region's queues' ids by name."""
    rows = await session.execute(sa.select(queues.c.name, queues.c.id).where(queues.c.region == region))
    return {name: qid for name, qid in rows}


async def has_automation_rule(session: AsyncSession, region: str, classifier: str) -> bool:
    """Whether the region has an automation rule for ``classifier``."""
    count = await session.scalar(
        sa.select(sa.func.count()).where(
            automation_rules.c.region == region, automation_rules.c.classifier == classifier
        )
    )
    return bool(count)


async def has_account(session: AsyncSession, external_id: str) -> bool:
    """Whether an account with ``external_id`` exists (the seed's marker that its lifecycles are loaded)."""
    return bool(await session.scalar(sa.select(sa.func.count()).where(accounts.c.external_id == external_id)))


async def principal_ids(session: AsyncSession) -> dict[str, str]:
    """Every principal's id (as text) by name."""
    rows = await session.execute(sa.select(principals.c.name, principals.c.id))
    return {name: str(pid) for name, pid in rows}


async def principal_exists(session: AsyncSession, name: str) -> bool:
    found = await session.execute(sa.select(principals.c.id).where(principals.c.name == name))
    return found.first() is not None
