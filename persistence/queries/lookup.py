"""Finding a subject's id from the platform's own id for it (what a reporter knows: the external id)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.region import Region
from domain.subject import SubjectKind
from persistence.tables.moderated import accounts, ads, contents
from persistence.tables.policies import policies

TABLES = {SubjectKind.ACCOUNT: accounts, SubjectKind.CONTENT: contents, SubjectKind.AD: ads}


async def subject_id_by_external_id(
    session: AsyncSession, kind: SubjectKind, region: Region, external_id: str
) -> uuid.UUID | None:
    table = TABLES[kind]
    stmt = sa.select(table.c.id).where(table.c.region == region, table.c.external_id == external_id)
    found = await session.scalar(stmt)
    return found if isinstance(found, uuid.UUID) else None


async def policy_id_by_code(session: AsyncSession, code: str) -> uuid.UUID | None:
    found = await session.scalar(sa.select(policies.c.id).where(policies.c.code == code))
    return found if isinstance(found, uuid.UUID) else None
