"""Cutting an automation rule over to the rules engine, in one unit of work.

Migration 0012 wrote every automation rule as two rules of the language (``domain.automation.threshold_rule_sources``:
a decide band and an enqueue band, SHADOW, each version citing it by ``migrated_from``) that record hits beside the
automation rule, which still acts. ``cut_over_automation_rule`` ends that: the rules migrated from the automation
rule become LIVE (a new version each, as ``transitionRule`` writes and audits it) and the automation rule is
disabled, so ``submitSignal`` on its policy and classifier gets its effect from the rules alone. Before that:

* a band without its rule (an automation rule defined after 0012) gets one, created from the translation as the
  migration would have (version 1 in SHADOW, ``migrated_from`` set, by the caller);
* a rule whose version in force is still the translation's (written by a migration or a cut-over, not edited by a
  person since: ``migrated_from`` set) but whose text differs from the automation rule as it stands now (its
  thresholds or actions were changed after 0012) gets a new version with the current text, so the cut-over keeps
  today's behaviour; a text a person edited is theirs and kept.

Refused (typed, nothing written): a caller who may not apply the automation rule's actions in its region (the check
of ``defineAutomationRule``), a disabled automation rule (already cut over, or disabled by a person:
INVALID_STATE), and a migrated rule a person moved out of SHADOW/LIVE (INVALID_STATE: move it back first).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from domain.actor import Actor
from domain.automation import MIGRATED_DESCRIPTION, AutomationRule, ThresholdRuleSource, threshold_rule_sources
from domain.enforcement import ensure_may_apply
from domain.errors import DomainError
from domain.ports import UnitOfWork
from domain.rules import RuleError
from domain.services.automation import MigratedRules
from domain.services.rules import Rule, RuleState, RuleStore, RuleVersion, check_text, transition_rule

CUT_OVER = "cutOverAutomationRule"


class CutOverStore(RuleStore, MigratedRules, Protocol):
    """The rule store, and the rules migrated from an automation rule (only the unit of work's regions)."""


@dataclass(frozen=True)
class CutOver:
    automation_rule: AutomationRule
    rules: tuple[tuple[Rule, RuleVersion], ...]
    """The rules now acting for it, LIVE, at their version in force, by name."""
    created: int
    """How many of them this cut-over created (an automation rule defined after migration 0012: both)."""


async def cut_over_automation_rule(
    uow: UnitOfWork, store: CutOverStore, actor: Actor, automation_rule_id: uuid.UUID, now: datetime
) -> CutOver:
    automation = await uow.automation_rules.get(automation_rule_id)
    if automation is None:
        raise DomainError.not_found("no such automation rule", "automationRuleId")
    ensure_may_apply(actor, [a.kind for a in automation.requested_actions], automation.region)
    if not automation.enabled:
        raise DomainError.invalid_state(
            "the automation rule is disabled: it was cut over already, or a person disabled it "
            "(defineAutomationRule with enabled: true, then cut it over)",
            "automationRuleId",
        )
    policy = await uow.policies.get(automation.policy_id)
    if policy is None:  # a rule's policy is never deleted; a broken row is not cut over
        raise DomainError.invalid_state("the automation rule's policy is gone", "automationRuleId")
    twins = {rule.name: (rule, version) for rule, version in await store.migrated_from(automation.id)}
    for rule, _ in twins.values():  # every check before the first write
        if rule.state not in (RuleState.SHADOW, RuleState.LIVE):
            raise DomainError.invalid_state(
                f"the migrated rule {rule.name!r} is {rule.state.value}: a person took it out of SHADOW; move it "
                "to SHADOW (transitionRule) before the cut-over",
                "automationRuleId",
            )
    created = 0
    try:
        for wanted in threshold_rule_sources(automation, policy.code):
            found = twins.get(wanted.name)
            if found is None:
                twins[wanted.name] = await _create(store, automation, wanted, actor.id, now)
                created += 1
            elif found[1].migrated_from is not None and found[1].source != wanted.source:
                twins[wanted.name] = await _rewrite(store, *found, wanted, actor.id, now)
        live = []
        for name in sorted(twins):
            rule, version = twins[name]
            if rule.state is not RuleState.LIVE:
                rule, version = await transition_rule(
                    store, rule_id=rule.id, to=RuleState.LIVE, author_id=actor.id, now=now
                )
            live.append((rule, version))
    except RuleError as exc:  # the translation of a valid automation rule always compiles: not the caller's input
        raise DomainError.invalid_state(
            f"the automation rule cannot be written as a rule: {exc}", "automationRuleId"
        ) from exc
    automation.disable(now)
    return CutOver(automation, tuple(live), created)


async def _create(
    store: CutOverStore, automation: AutomationRule, wanted: ThresholdRuleSource, author_id: str, now: datetime
) -> tuple[Rule, RuleVersion]:
    """A band's rule, version 1 in SHADOW citing the automation rule, as migration 0012 writes one."""
    rule_id = uuid.uuid4()
    compiled = await check_text(store, automation.region, wanted.source, rule_id, 1)
    if await store.name_taken(automation.region, compiled.name):
        raise DomainError.conflict(
            f"region {automation.region.value} already has a rule named {compiled.name!r} that was not migrated "
            "from this automation rule",
            "automationRuleId",
        )
    rule = Rule(
        id=rule_id,
        region=automation.region,
        name=compiled.name,
        state=RuleState.SHADOW,
        current_version=1,
        created_at=now,
        updated_at=now,
    )
    version = RuleVersion(
        rule_id=rule_id,
        number=1,
        state=RuleState.SHADOW,
        source=wanted.source,
        description=MIGRATED_DESCRIPTION,
        policy_id=automation.policy_id,
        daily_action_cap=None,
        expires_at=None,
        author_id=author_id,
        created_at=now,
        migrated_from=automation.id,
    )
    await store.add(rule, version, operation=CUT_OVER)
    return rule, version


async def _rewrite(
    store: CutOverStore, rule: Rule, current: RuleVersion, wanted: ThresholdRuleSource, author_id: str, now: datetime
) -> tuple[Rule, RuleVersion]:
    """A new version of a migrated rule with the automation rule's text as it stands now (state and settings kept,
    still citing it)."""
    number = current.number + 1
    await check_text(store, rule.region, wanted.source, rule.id, number)
    new = replace(current, id=uuid.uuid4(), number=number, source=wanted.source, author_id=author_id, created_at=now)
    loaded = rule.version
    rule = replace(rule, current_version=number, updated_at=now, version=loaded + 1)
    await store.add_version(rule, new, loaded_version=loaded, operation=CUT_OVER)
    return rule, new
