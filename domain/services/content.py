"""Content services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain import limits
from domain.actor import Actor
from domain.content import Content, ContentKind
from domain.errors import DomainError
from domain.ports import UnitOfWork


@dataclass(frozen=True)
class UpsertContent:
    owner_account_id: uuid.UUID
    external_id: str
    kind: ContentKind
    title: str | None = None
    text: str | None = None
    url: str | None = None
    language: str | None = None
    reach: int = 0

    def validate(self) -> None:
        limits.text(self.external_id, field="externalId", max_len=limits.NAME_MAX)
        limits.optional_text(self.title, field="title", max_len=limits.NAME_MAX)
        limits.optional_text(self.text, field="text", max_len=limits.TEXT_MAX)
        limits.optional_url(self.url, field="url")
        limits.optional_text(self.language, field="language", max_len=limits.LANGUAGE_MAX)
        limits.int_range(self.reach, field="reach", low=0, high=limits.REACH_MAX)


async def upsert_content(uow: UnitOfWork, actor: Actor, cmd: UpsertContent) -> Content:
    """Create or update by (owner's region, external_id). Never touches visibility; the owner cannot change."""
    cmd.validate()
    owner = await uow.accounts.get(cmd.owner_account_id)
    if owner is None:
        raise DomainError.not_found(f"account {cmd.owner_account_id} not found", "ownerAccountId")
    content = await uow.contents.get_by_external_id(owner.region, cmd.external_id)
    if content is not None and content.owner_account_id != owner.id:
        raise DomainError.conflict(f"content {cmd.external_id} belongs to another account", "ownerAccountId")
    now = uow.clock.now()
    if content is None:
        content = Content(
            region=owner.region,
            owner_account_id=owner.id,
            external_id=cmd.external_id,
            kind=cmd.kind,
            created_at=now,
            updated_at=now,
        )
        uow.contents.add(content)
    content.update_details(
        kind=cmd.kind, title=cmd.title, text=cmd.text, url=cmd.url, language=cmd.language, reach=cmd.reach, now=now
    )
    return content
