"""Enforcement rules as stored records: their lifecycle, versions and named lists, checked by the rules language.

A rule belongs to one region (its text's ``in`` clause names exactly that region) and moves DRAFT -> SHADOW (its
hits are recorded, nothing is done) -> LIVE (its actions run) -> DISABLED; LIVE may step back to SHADOW, SHADOW to
DRAFT, and a DISABLED rule comes back as a DRAFT. Every change (new text, settings or state) is a new version: the
versions are never changed, and hits, cases and decisions cite the version that caused them. A text is checked
with ``domain.rules.define_rule`` against the catalogue (event types, the region's lists, policies, counters,
signals) before anything is stored: a ``RuleError`` (code, line, column) reaches the caller unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Protocol

from domain import limits
from domain.errors import DomainError
from domain.region import Region
from domain.rules import Catalogue, CompiledRule, CounterKind, CounterSource, EventType, ListKind, define_rule
from domain.rules.catalogue import AttrType
from domain.services.events import EVENT_TYPES


class RuleState(StrEnum):
    DRAFT = "DRAFT"
    SHADOW = "SHADOW"
    LIVE = "LIVE"
    DISABLED = "DISABLED"


TRANSITIONS: Final = MappingProxyType(
    {
        RuleState.DRAFT: frozenset({RuleState.SHADOW, RuleState.DISABLED}),
        RuleState.SHADOW: frozenset({RuleState.LIVE, RuleState.DRAFT, RuleState.DISABLED}),
        RuleState.LIVE: frozenset({RuleState.SHADOW, RuleState.DISABLED}),
        RuleState.DISABLED: frozenset({RuleState.DRAFT}),
    }
)
ACTIVE_STATES: Final = frozenset({RuleState.SHADOW, RuleState.LIVE})
SOURCE_MAX: Final = 20_000
DAILY_CAP_MAX: Final = 1_000_000

# Intake's own events, evaluated like the platform's: a report filed (submitReport/submitReports), one type per
# kind of subject so a rule names the entities it reads, and a classifier score (submitSignal).
_REPORTED = MappingProxyType({"reporter": AttrType.STRING, "source": AttrType.STRING, "policy_code": AttrType.STRING})
REPORT_EVENT_TYPES: Final = MappingProxyType(
    {"content": "content.reported", "account": "account.reported", "ad": "ad.reported"}
)
INTAKE_EVENT_TYPES: Final[Mapping[str, EventType]] = MappingProxyType(
    {
        "content.reported": EventType("content.reported", frozenset({"content", "account"}), _REPORTED),
        "account.reported": EventType("account.reported", frozenset({"account"}), _REPORTED),
        "ad.reported": EventType("ad.reported", frozenset({"ad", "account"}), _REPORTED),
        "signal.submitted": EventType(
            "signal.submitted",
            frozenset({"account"}),
            MappingProxyType({"classifier": AttrType.STRING, "policy_code": AttrType.STRING, "score": AttrType.NUMBER}),
        ),
    }
)
_REPORTS = frozenset(REPORT_EVENT_TYPES.values())
COUNTER_SOURCES: Final[Mapping[str, CounterSource]] = MappingProxyType(
    {
        "reports": CounterSource("reports", CounterKind.COUNT, _REPORTS),
        "reporters": CounterSource("reporters", CounterKind.DISTINCT, _REPORTS, member_attribute="reporter"),
        "posts": CounterSource("posts", CounterKind.COUNT, frozenset({"content.posted"})),
        "messages": CounterSource("messages", CounterKind.COUNT, frozenset({"message.sent"})),
        "logins": CounterSource("logins", CounterKind.COUNT, frozenset({"account.login"})),
        "login_ips": CounterSource(
            "login_ips", CounterKind.DISTINCT, frozenset({"account.login"}), member_attribute="ip"
        ),
    }
)


def catalogue(
    lists: Mapping[str, ListKind],
    policies: frozenset[str],
    signals: frozenset[str] = frozenset(),
    queues: frozenset[str] | None = None,
) -> Catalogue:
    """What rule text may name: the event types, the region's lists, the policies, the known classifiers and (when
    defining a rule) the region's case queues; None accepts any queue (running a rule: a queue gone since fails
    the action that names it, see ``domain.services.rule_actions``)."""
    return Catalogue(
        event_types=MappingProxyType({**EVENT_TYPES, **INTAKE_EVENT_TYPES}),
        lists=MappingProxyType(dict(lists)),
        signals=signals,
        counters=COUNTER_SOURCES,
        policies=policies,
        queues=queues,
    )


@dataclass(kw_only=True)
class Rule:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: Region
    name: str
    state: RuleState
    current_version: int
    created_at: datetime
    updated_at: datetime
    version: int = 1


@dataclass(frozen=True, kw_only=True)
class RuleVersion:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    rule_id: uuid.UUID
    number: int
    state: RuleState
    source: str
    description: str | None
    policy_id: uuid.UUID | None
    daily_action_cap: int | None
    expires_at: datetime | None
    author_id: str
    created_at: datetime
    migrated_from: uuid.UUID | None = None


@dataclass(frozen=True)
class RuleSettings:
    description: str | None = None
    daily_action_cap: int | None = None
    expires_at: datetime | None = None


class RuleStore(Protocol):
    """Rules and lists as the service needs them (``persistence.rules.SqlRuleStore``): only the caller's regions."""

    async def rule(self, rule_id: uuid.UUID) -> tuple[Rule, RuleVersion] | None: ...

    async def name_taken(self, region: Region, name: str) -> bool: ...

    async def list_kinds(self, region: Region) -> dict[str, ListKind]: ...

    async def policies(self) -> dict[str, uuid.UUID]: ...

    async def signals(self, region: Region) -> frozenset[str]: ...

    async def queue_names(self, region: Region) -> frozenset[str]:
        """The names of the region's case queues (not its appeal queues): what ``open_case`` may name."""
        ...

    async def add(self, rule: Rule, version: RuleVersion, *, operation: str) -> None: ...

    async def add_version(self, rule: Rule, version: RuleVersion, *, loaded_version: int, operation: str) -> None: ...


def _settings(settings: RuleSettings, now: datetime) -> RuleSettings:
    limits.optional_text(settings.description, field="description", max_len=limits.TEXT_MAX)
    cap = settings.daily_action_cap
    if cap is not None and not 0 <= cap <= DAILY_CAP_MAX:
        raise DomainError.invalid_input(f"dailyActionCap must be between 0 and {DAILY_CAP_MAX}", "dailyActionCap")
    if settings.expires_at is not None and settings.expires_at <= now:
        raise DomainError.invalid_input("expiresAt must be in the future", "expiresAt")
    return settings


async def check_text(store: RuleStore, region: Region, source: str, rule_id: uuid.UUID, number: int) -> CompiledRule:
    """The compiled rule, or ``RuleError`` (from the language) / ``DomainError`` (too long, wrong region)."""
    if len(source) > SOURCE_MAX:
        raise DomainError.invalid_input(f"source must be at most {SOURCE_MAX} characters", "source")
    policies = await store.policies()
    known = catalogue(
        await store.list_kinds(region),
        frozenset(policies),
        await store.signals(region),
        await store.queue_names(region),
    )
    compiled = define_rule(source, known, rule_id=str(rule_id), version=number)
    if compiled.regions != {region.value}:
        raise DomainError.invalid_input(f"a rule of region {region.value} says `in {region.value}` alone", "source")
    limits.text(compiled.name, field="source", max_len=limits.NAME_MAX)
    return compiled


async def create_rule(
    store: RuleStore, *, region: Region, source: str, settings: RuleSettings, author_id: str, now: datetime
) -> tuple[Rule, RuleVersion]:
    """A new rule in DRAFT, version 1."""
    _settings(settings, now)
    rule_id = uuid.uuid4()
    compiled = await check_text(store, region, source, rule_id, 1)
    if await store.name_taken(region, compiled.name):
        raise DomainError.conflict(f"region {region.value} already has a rule named {compiled.name!r}", "source")
    rule = Rule(
        id=rule_id,
        region=region,
        name=compiled.name,
        state=RuleState.DRAFT,
        current_version=1,
        created_at=now,
        updated_at=now,
    )
    version = RuleVersion(
        rule_id=rule_id,
        number=1,
        state=RuleState.DRAFT,
        source=source,
        description=settings.description,
        policy_id=(await store.policies())[compiled.policy],
        daily_action_cap=settings.daily_action_cap,
        expires_at=settings.expires_at,
        author_id=author_id,
        created_at=now,
    )
    await store.add(rule, version, operation="createRule")
    return rule, version


async def _load(store: RuleStore, rule_id: uuid.UUID) -> tuple[Rule, RuleVersion]:
    found = await store.rule(rule_id)
    if found is None:
        raise DomainError.not_found("no such rule", "ruleId")
    return found


async def _next(
    store: RuleStore, rule: Rule, version: RuleVersion, new: RuleVersion, now: datetime, operation: str
) -> tuple[Rule, RuleVersion]:
    loaded = rule.version
    rule = replace(rule, state=new.state, current_version=new.number, updated_at=now, version=loaded + 1)
    await store.add_version(rule, new, loaded_version=loaded, operation=operation)
    return rule, new


async def update_rule(
    store: RuleStore,
    *,
    rule_id: uuid.UUID,
    source: str | None,
    settings: RuleSettings,
    author_id: str,
    now: datetime,
) -> tuple[Rule, RuleVersion]:
    """A new version with new text and/or settings, in the rule's current state."""
    rule, current = await _load(store, rule_id)
    _settings(settings, now)
    number = current.number + 1
    text = current.source if source is None else source
    compiled = await check_text(store, rule.region, text, rule.id, number)
    if compiled.name != rule.name:
        raise DomainError.invalid_input("a rule keeps its name (create a new rule instead)", "source")
    new = replace(
        current,
        id=uuid.uuid4(),
        number=number,
        source=text,
        description=settings.description,
        policy_id=(await store.policies())[compiled.policy],
        daily_action_cap=settings.daily_action_cap,
        expires_at=settings.expires_at,
        author_id=author_id,
        created_at=now,
        migrated_from=None,
    )
    return await _next(store, rule, current, new, now, "updateRule")


async def transition_rule(
    store: RuleStore, *, rule_id: uuid.UUID, to: RuleState, author_id: str, now: datetime
) -> tuple[Rule, RuleVersion]:
    """A new version in state ``to``, if the lifecycle allows it (INVALID_STATE otherwise)."""
    rule, current = await _load(store, rule_id)
    if to not in TRANSITIONS[rule.state]:
        raise DomainError.invalid_state(f"a {rule.state.value} rule cannot become {to.value}", "state")
    if to in ACTIVE_STATES and current.expires_at is not None and current.expires_at <= now:
        raise DomainError.invalid_state("the rule has expired: give it a new expiry first", "state")
    if to in ACTIVE_STATES:  # the lists or policies it names may have gone since it was written
        await check_text(store, rule.region, current.source, rule.id, current.number + 1)
    new = replace(current, id=uuid.uuid4(), number=current.number + 1, state=to, author_id=author_id, created_at=now)
    return await _next(store, rule, current, new, now, "transitionRule")
