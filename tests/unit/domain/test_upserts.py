"""Rule 10: upserts of accounts, content and policies."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest

from domain.account import AccountKind, AccountStatus
from domain.clock import FixedClock
from domain.content import ContentKind, Visibility
from domain.enforcement import ActionKind, RequestedAction
from domain.errors import DomainError, ErrorCode
from domain.policy import Severity
from domain.region import Region
from domain.services.account import UpsertAccount, upsert_account
from domain.services.content import UpsertContent, upsert_content
from domain.services.policy import DefinePolicy, define_policy
from domain.subject import Surface
from tests.unit.domain import builders as b
from tests.unit.domain.fakes import FakeUnitOfWork


def _acct(external_id: str = "u-1", region: Region = Region.US, **changes: str | None) -> UpsertAccount:
    return UpsertAccount(
        region=region,
        external_id=external_id,
        kind=AccountKind.CREATOR,
        handle=changes.get("handle") or "alice",
        display_name="Alice",
        email=changes.get("email"),
        last_ip=changes.get("last_ip"),
    )


async def test_upsert_account_creates_then_updates(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    created = await upsert_account(uow, b.PLATFORM, _acct())
    clock.advance(timedelta(minutes=5))
    updated = await upsert_account(uow, b.PLATFORM, _acct(handle="alice2", email="a@example.com"))

    assert updated is created
    assert len(uow.accounts.all()) == 1
    assert (updated.handle, updated.email) == ("alice2", "a@example.com")
    assert updated.created_at == b.T0
    assert updated.updated_at == clock.now()
    assert updated.status is AccountStatus.ACTIVE


async def test_same_external_id_in_another_region_is_another_account(uow: FakeUnitOfWork) -> None:
    us = await upsert_account(uow, b.PLATFORM, _acct())
    eu = await upsert_account(uow, b.PLATFORM, _acct(region=Region.EU))
    assert us.id != eu.id


async def test_unchanged_upsert_touches_nothing(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    await upsert_account(uow, b.PLATFORM, _acct())
    before = uow.snapshot()
    clock.advance(timedelta(minutes=5))
    await upsert_account(uow, b.PLATFORM, _acct())
    assert uow.snapshot() == before


async def test_upsert_never_changes_status(uow: FakeUnitOfWork) -> None:
    target = await b.account(uow)
    hate = await b.policy(uow)
    video = await b.content(uow, target)
    ban = (RequestedAction(ActionKind.BAN_ACCOUNT), RequestedAction(ActionKind.REMOVE_CONTENT))
    await b.violate(uow, video, hate.policy.id, actions=ban)

    cmd = UpsertAccount(
        region=target.region, external_id=target.external_id, kind=target.kind, handle="new", display_name="New"
    )
    await upsert_account(uow, b.PLATFORM, cmd)
    await upsert_content(
        uow, b.PLATFORM, UpsertContent(owner_account_id=target.id, external_id=video.external_id, kind=video.kind)
    )

    assert target.status is AccountStatus.BANNED
    assert video.visibility is Visibility.REMOVED


@pytest.mark.parametrize(
    ("cmd", "field"),
    [
        (_acct(external_id=""), "externalId"),
        (_acct(handle="x" * 201), "handle"),
        (_acct(email="e" * 321), "email"),
        (_acct(last_ip="999.1.1.1"), "lastIp"),
    ],
)
async def test_account_input_is_validated(uow: FakeUnitOfWork, cmd: UpsertAccount, field: str) -> None:
    with pytest.raises(DomainError) as raised:
        await upsert_account(uow, b.PLATFORM, cmd)
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, field)
    assert uow.accounts.all() == []


async def test_upsert_content_inherits_owner_region(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow, region=Region.APAC)
    cmd = UpsertContent(owner_account_id=owner.id, external_id="v-1", kind=ContentKind.VIDEO, reach=10)
    created = await upsert_content(uow, b.PLATFORM, cmd)
    updated = await upsert_content(
        uow, b.PLATFORM, UpsertContent(owner_account_id=owner.id, external_id="v-1", kind=ContentKind.VIDEO, reach=99)
    )
    assert updated is created
    assert created.region is Region.APAC
    assert created.reach == 99
    assert created.visibility is Visibility.VISIBLE


async def test_content_owner_must_exist_and_not_change(uow: FakeUnitOfWork) -> None:
    owner = await b.account(uow)
    other = await b.account(uow)
    await upsert_content(
        uow, b.PLATFORM, UpsertContent(owner_account_id=owner.id, external_id="v-1", kind=ContentKind.POST)
    )
    with pytest.raises(DomainError) as missing:
        await upsert_content(
            uow, b.PLATFORM, UpsertContent(owner_account_id=uuid.uuid4(), external_id="v-2", kind=ContentKind.POST)
        )
    with pytest.raises(DomainError) as moved:
        await upsert_content(
            uow, b.PLATFORM, UpsertContent(owner_account_id=other.id, external_id="v-1", kind=ContentKind.POST)
        )
    assert (missing.value.code, missing.value.field) == (ErrorCode.NOT_FOUND, "ownerAccountId")
    assert (moved.value.code, moved.value.field) == (ErrorCode.CONFLICT, "ownerAccountId")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://x"}, "url"),
        ({"reach": -1}, "reach"),
        ({"title": "t" * 201}, "title"),
        ({"text": "t" * 10_001}, "text"),
    ],
)
async def test_content_input_is_validated(uow: FakeUnitOfWork, change: dict[str, Any], field: str) -> None:
    owner = await b.account(uow)
    cmd = dataclasses.replace(
        UpsertContent(owner_account_id=owner.id, external_id="v", kind=ContentKind.POST), **change
    )
    with pytest.raises(DomainError) as raised:
        await upsert_content(uow, b.PLATFORM, cmd)
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, field)


def _policy_cmd(severity: Severity = Severity.HIGH, surface: Surface = Surface.CONTENT) -> DefinePolicy:
    return DefinePolicy(
        code="HATE_SPEECH",
        name="Hate speech",
        surface=surface,
        severity=severity,
        dsa_category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        description="No attacks on protected groups.",
    )


async def test_define_policy_creates_version_one(uow: FakeUnitOfWork) -> None:
    defined = await define_policy(uow, b.POLICY_MANAGER, _policy_cmd())
    assert defined.policy.current_version == 1
    assert defined.policy.region is None
    assert defined.version.number == 1
    assert defined.version.published_by == b.POLICY_MANAGER.id
    assert defined.version.strike_ttl_days == 90


async def test_redefining_publishes_next_version_and_keeps_old(uow: FakeUnitOfWork, clock: FixedClock) -> None:
    v1 = await define_policy(uow, b.POLICY_MANAGER, _policy_cmd())
    old = uow.snapshot()["policy_versions"][v1.version.id]
    clock.advance(timedelta(days=1))

    v2 = await define_policy(uow, b.POLICY_MANAGER, _policy_cmd(Severity.SEVERE))

    assert v2.policy is v1.policy
    assert v2.version.number == 2
    assert v2.policy.current_version == 2
    assert await uow.policies.current_version(v1.policy.id) is v2.version
    assert await uow.policies.get_version(v1.version.id) == old


async def test_policy_keywords_are_kept_sorted_once(uow: FakeUnitOfWork) -> None:
    keywords = ("KEYWORD_HATE_SPEECH", "KEYWORD_DISCRIMINATION", "KEYWORD_HATE_SPEECH")
    defined = await define_policy(uow, b.POLICY_MANAGER, dataclasses.replace(_policy_cmd(), dsa_keywords=keywords))
    assert defined.version.dsa_keywords == ("KEYWORD_DISCRIMINATION", "KEYWORD_HATE_SPEECH")


async def test_policy_surface_cannot_change(uow: FakeUnitOfWork) -> None:
    await define_policy(uow, b.POLICY_MANAGER, _policy_cmd())
    with pytest.raises(DomainError) as raised:
        await define_policy(uow, b.POLICY_MANAGER, _policy_cmd(surface=Surface.ADS))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "surface")
    assert len(uow.policies.versions) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "hate speech"}, "code"),
        ({"strike_weight": 11}, "strikeWeight"),
        ({"strike_ttl_days": 0}, "strikeTtlDays"),
        ({"name": ""}, "name"),
        ({"dsa_category": ""}, "dsaCategory"),
        ({"dsa_category": "STATEMENT_CATEGORY_UNSAFE_PRODUCTS"}, "dsaCategory"),
        ({"dsa_category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"}, "dsaCategory"),
        ({"dsa_keywords": ("KEYWORD_HATE_SPEECH", "KEYWORD_SPAM")}, "dsaKeywords"),
        ({"guidelines_url": "ftp://example.com/rules"}, "guidelinesUrl"),
        ({"guidelines_url": "https://example.com/" + "r" * 500}, "guidelinesUrl"),
    ],
)
async def test_policy_input_is_validated(uow: FakeUnitOfWork, change: dict[str, Any], field: str) -> None:
    cmd = dataclasses.replace(_policy_cmd(), **change)
    with pytest.raises(DomainError) as raised:
        await define_policy(uow, b.POLICY_MANAGER, cmd)
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, field)
