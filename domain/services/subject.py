"""Loading subjects and re-deriving their enforcement state."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.status import account_status_at, ad_status, content_visibility_at
from domain.subject import Subject, SubjectKind


async def load_subject(
    uow: UnitOfWork, kind: SubjectKind, subject_id: uuid.UUID, *, field: str = "subjectId"
) -> Subject:
    """The subject as a read-only view; NOT_FOUND (``field``) if it does not exist."""
    if kind is SubjectKind.ACCOUNT:
        account = await uow.accounts.get(subject_id)
        if account is not None:
            return Subject(kind=kind, id=account.id, region=account.region, owner_account_id=account.id)
    elif kind is SubjectKind.CONTENT:
        content = await uow.contents.get(subject_id)
        if content is not None:
            return Subject(
                kind=kind,
                id=content.id,
                region=content.region,
                owner_account_id=content.owner_account_id,
                reach=content.reach,
            )
    else:
        ad = await uow.ads.get(subject_id)
        if ad is not None:
            return Subject(kind=kind, id=ad.id, region=ad.region, owner_account_id=ad.advertiser_account_id)
    raise DomainError.not_found(f"{kind.value.lower()} {subject_id} not found", field)


async def refresh_subject(uow: UnitOfWork, kind: SubjectKind, target_id: uuid.UUID) -> bool:
    """Re-derive and store the target's status / visibility / ad status; returns whether it changed."""
    now = uow.clock.now()
    actions = await uow.actions.list_for_target(kind, target_id)
    if kind is SubjectKind.ACCOUNT:
        account = await uow.accounts.get(target_id)
        return account is not None and account.set_status(*account_status_at(actions, now), now)
    if kind is SubjectKind.CONTENT:
        content = await uow.contents.get(target_id)
        return content is not None and content.set_visibility(content_visibility_at(actions, now), now)
    ad = await uow.ads.get(target_id)
    if ad is None:
        return False
    status = ad_status(actions, now, reviewed=ad.reviewed_at is not None, restrictions=ad.restrictions)
    return ad.set_status(status, now)


async def refresh_subjects(uow: UnitOfWork, targets: Iterable[tuple[SubjectKind, uuid.UUID]]) -> None:
    for kind, target_id in sorted(set(targets)):
        await refresh_subject(uow, kind, target_id)
