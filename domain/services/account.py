"""Account services."""

from __future__ import annotations

from dataclasses import dataclass

from domain import limits
from domain.account import Account, AccountKind
from domain.actor import Actor
from domain.ports import UnitOfWork
from domain.region import Region


@dataclass(frozen=True)
class UpsertAccount:
    region: Region
    external_id: str
    kind: AccountKind
    handle: str
    display_name: str
    email: str | None = None
    phone: str | None = None
    last_ip: str | None = None
    language: str | None = None

    def validate(self) -> None:
        limits.text(self.external_id, field="externalId", max_len=limits.NAME_MAX)
        limits.text(self.handle, field="handle", max_len=limits.NAME_MAX)
        limits.text(self.display_name, field="displayName", max_len=limits.NAME_MAX)
        limits.optional_text(self.email, field="email", max_len=limits.EMAIL_MAX)
        limits.optional_text(self.phone, field="phone", max_len=limits.PHONE_MAX)
        limits.ip_address(self.last_ip, field="lastIp")
        limits.optional_text(self.language, field="language", max_len=limits.LANGUAGE_MAX)


async def upsert_account(uow: UnitOfWork, actor: Actor, cmd: UpsertAccount) -> Account:
    """Create or update by (region, external_id). Never touches status (only enforcement does)."""
    cmd.validate()
    now = uow.clock.now()
    account = await uow.accounts.get_by_external_id(cmd.region, cmd.external_id)
    if account is None:
        account = Account(
            region=cmd.region,
            external_id=cmd.external_id,
            kind=cmd.kind,
            handle=cmd.handle,
            display_name=cmd.display_name,
            created_at=now,
            updated_at=now,
        )
        uow.accounts.add(account)
    account.update_profile(
        kind=cmd.kind,
        handle=cmd.handle,
        display_name=cmd.display_name,
        email=cmd.email,
        phone=cmd.phone,
        last_ip=cmd.last_ip,
        language=cmd.language,
        now=now,
    )
    return account
