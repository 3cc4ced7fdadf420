"""Policy services: define / publish policies, look up the version in force."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain import limits
from domain.actor import Actor
from domain.dsa.vocabulary import Category, Keyword
from domain.errors import DomainError
from domain.policy import DEFAULT_STRIKE_TTL_DAYS, Policy, PolicyVersion, Severity
from domain.ports import UnitOfWork
from domain.subject import Surface

CATEGORIES = frozenset(c.value for c in Category)
KEYWORDS = frozenset(k.value for k in Keyword)
GUIDELINES_URL_MAX = 500  # the Transparency Database's limit for decision_ground_reference_url


@dataclass(frozen=True)
class DefinePolicy:
    code: str
    name: str
    surface: Surface
    severity: Severity
    dsa_category: str
    description: str
    strike_weight: int = 1
    strike_ttl_days: int = DEFAULT_STRIKE_TTL_DAYS
    dsa_keywords: tuple[str, ...] = ()
    guidelines_url: str | None = None

    def validate(self) -> None:
        limits.policy_code(self.code)
        limits.text(self.name, field="name", max_len=limits.NAME_MAX)
        limits.text(self.dsa_category, field="dsaCategory", max_len=limits.NAME_MAX)
        if self.dsa_category not in CATEGORIES:
            raise DomainError.invalid_input(
                "not a category of the DSA Transparency Database (STATEMENT_CATEGORY_...)", "dsaCategory"
            )
        limits.optional_url(self.guidelines_url, field="guidelinesUrl")
        if self.guidelines_url is not None and len(self.guidelines_url) > GUIDELINES_URL_MAX:
            raise DomainError.invalid_input(
                f"guidelinesUrl must be at most {GUIDELINES_URL_MAX} characters", "guidelinesUrl"
            )
        if len(self.dsa_keywords) > len(KEYWORDS) or not set(self.dsa_keywords) <= KEYWORDS:
            raise DomainError.invalid_input(
                "not keywords of the DSA Transparency Database (KEYWORD_...)", "dsaKeywords"
            )
        limits.text(self.description, field="description", max_len=limits.TEXT_MAX)
        limits.int_range(self.strike_weight, field="strikeWeight", low=0, high=limits.STRIKE_WEIGHT_MAX)
        limits.int_range(self.strike_ttl_days, field="strikeTtlDays", low=1, high=limits.STRIKE_TTL_DAYS_MAX)


@dataclass(frozen=True)
class PolicyDefinition:
    policy: Policy
    version: PolicyVersion


async def define_policy(uow: UnitOfWork, actor: Actor, cmd: DefinePolicy) -> PolicyDefinition:
    """Create the policy at version 1, or publish its next version if the code exists (old ones untouched)."""
    cmd.validate()
    now = uow.clock.now()
    policy = await uow.policies.get_by_code(cmd.code)
    if policy is None:
        policy = Policy(code=cmd.code, name=cmd.name, surface=cmd.surface, created_at=now, updated_at=now)
        uow.policies.add(policy)
    elif policy.surface is not cmd.surface:
        raise DomainError.invalid_input(f"policy {cmd.code} is a {policy.surface.value} policy", "surface")
    else:
        policy.publish(cmd.name, now)
    version = PolicyVersion(
        policy_id=policy.id,
        number=policy.current_version,
        severity=cmd.severity,
        strike_weight=cmd.strike_weight,
        strike_ttl_days=cmd.strike_ttl_days,
        dsa_category=cmd.dsa_category,
        dsa_keywords=tuple(sorted(set(cmd.dsa_keywords))),
        guidelines_url=cmd.guidelines_url,
        description=cmd.description,
        published_at=now,
        published_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    uow.policies.add_version(version)
    return PolicyDefinition(policy, version)


async def policy_in_force(
    uow: UnitOfWork, policy_id: uuid.UUID, *, field: str = "policyId"
) -> tuple[Policy, PolicyVersion]:
    """The policy and its current version; NOT_FOUND (``field``) if either is missing."""
    policy = await uow.policies.get(policy_id)
    version = None if policy is None else await uow.policies.current_version(policy_id)
    if policy is None or version is None:
        raise DomainError.not_found(f"policy {policy_id} not found", field)
    return policy, version
