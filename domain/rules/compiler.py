"""Rule text -> ``CompiledRule``: parse, type-check against the catalogue, compile to closures (never eval).

STUB: interface only; implementation follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.rules.actions import Action
from domain.rules.catalogue import Catalogue


@dataclass(frozen=True, eq=False)
class CompiledRule:
    """A defined rule. The header fields are public (the caller stores and shows them); the compiled condition is
    private to the engine."""

    rule_id: str
    version: int
    name: str
    event_types: frozenset[str]
    regions: frozenset[str]
    policy: str
    actions: tuple[Action, ...]
    rollout_percent: float
    """0 < p <= 100: the share of entities (by a stable hash of rule id and entity id) the rule applies to."""
    rollout_by: str | None
    """Entity kind whose id the rollout hashes (None: the event's subject)."""
    lists: frozenset[str]
    """Names of the lists the condition reads."""
    source: str


def define_rule(text: str, catalogue: Catalogue, *, rule_id: str, version: int) -> CompiledRule:
    """Parse, check and compile ``text``. Raises ``RuleSyntaxError`` or ``RuleDefinitionError``."""
    raise NotImplementedError
