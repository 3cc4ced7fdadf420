"""An automation rule as two rules of the language: ``domain.automation.threshold_rule_sources`` (what a cut-over
creates) writes exactly what migration 0012 wrote and 0020 rewrote (the migrations keep their own frozen copy), and
its rules give the automation rule's bands on every score of a grid."""

from __future__ import annotations

import importlib.util
import itertools
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from domain.automation import AutomationRule, Band, decode_action, threshold_rule_sources
from domain.region import Region
from domain.rules import Decide, Event, Hold, ListIndex, RuleSet, define_rule
from domain.rules.memory import Snapshot
from domain.services.rules import catalogue

NOW = datetime(2026, 12, 6, tzinfo=UTC)
VERSIONS = Path(__file__).resolve().parents[3] / "migrations" / "versions"


def _migration(name: str) -> ModuleType:
    (path,) = VERSIONS.glob(f"{name}_*.py")
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


M0012 = _migration("0012")
M0020 = _migration("0020")

CLASSIFIERS = ["hate-v3", 'demo "classifier"', "back\\slash\tand\nnewline", "nudité-ü", "x" * 150]
THRESHOLDS = [(0.0, 1.0), (0.6, 0.95), (0.1, 0.2), (1e-05, 0.123456789), (0.3333333333333333, 0.9999999)]
ACTIONS = [(), ("REMOVE_CONTENT",), ("REMOVE_CONTENT", "SUSPEND_ACCOUNT:7"), ("BAN_ACCOUNT",)]
GRID = list(itertools.product(CLASSIFIERS, THRESHOLDS, ACTIONS, [Region.US, Region.EU], ["HATE_SPEECH", "SPAM"]))


def _automation(
    classifier: str, thresholds: tuple[float, float], actions: tuple[str, ...], region: Region
) -> AutomationRule:
    return AutomationRule(
        id=uuid.uuid4(),
        region=region,
        policy_id=uuid.uuid4(),
        classifier=classifier,
        enqueue_threshold=thresholds[0],
        decide_threshold=thresholds[1],
        actions=actions,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(("classifier", "thresholds", "actions", "region", "code"), GRID)
def test_the_domain_writes_what_the_migrations_wrote(
    classifier: str, thresholds: tuple[float, float], actions: tuple[str, ...], region: Region, code: str
) -> None:
    rule = _automation(classifier, thresholds, actions, region)
    decide, enqueue = threshold_rule_sources(rule, code)
    migrated = M0012.threshold_sources(
        rule.id, region.value, code, classifier, thresholds[0], thresholds[1], list(actions)
    )
    rewritten = [(name, text.replace(M0020.MIGRATED_ENQUEUE, "hold()")) for name, text in migrated]
    assert [(decide.name, decide.source), (enqueue.name, enqueue.source)] == rewritten
    assert (decide.band, enqueue.band) == (Band.DECIDE, Band.ENQUEUE)


SCORES = [0.0, 1e-05, 0.1, 0.19999, 0.2, 0.59, 0.6, 0.7, 0.9499, 0.95, 0.97, 0.9999999, 1.0]


@pytest.mark.parametrize(
    ("classifier", "thresholds", "actions"), list(itertools.product(CLASSIFIERS, THRESHOLDS, ACTIONS))
)
def test_the_rules_give_the_automation_rules_bands(
    classifier: str, thresholds: tuple[float, float], actions: tuple[str, ...]
) -> None:
    rule = _automation(classifier, thresholds, actions, Region.US)
    known = catalogue({}, frozenset({"HATE_SPEECH"}), frozenset({classifier}))
    compiled = [
        define_rule(s.source, known, rule_id=f"r-{i}", version=1)
        for i, s in enumerate(threshold_rule_sources(rule, "HATE_SPEECH"))
    ]
    rules = RuleSet(compiled, ListIndex([]))
    for score in SCORES:
        attributes = {"classifier": classifier, "policy_code": "HATE_SPEECH", "score": score}
        event = Event(
            type="signal.submitted",
            region="US",
            entities={"content": "c-1", "account": "u-1"},
            attributes=attributes,
            occurred_at=NOW,
            signals={classifier: score},
        )
        taken = [a for hit in rules.evaluate(event, Snapshot()).hits for a in hit.actions]
        band = rule.band(score)
        if band is Band.DECIDE:
            assert len(taken) == 1, (score, taken)
            assert isinstance(taken[0], Decide)
            assert [decode_action(a) for a in taken[0].actions] == list(rule.requested_actions)
        elif band is Band.ENQUEUE:
            assert taken == [Hold()], (score, taken)
        else:
            assert taken == [], (score, taken)
        other = Event(
            type="signal.submitted",
            region="US",
            entities={"content": "c-1", "account": "u-1"},
            attributes={**attributes, "classifier": classifier + "-other"},
            occurred_at=NOW,
            signals={classifier: score},
        )
        assert rules.evaluate(other, Snapshot()).hits == ()


def test_the_reference_shows_what_the_function_writes() -> None:
    rule = AutomationRule(
        id=uuid.UUID("1a2b3c4d-0000-4000-8000-000000000000"),
        region=Region.EU,
        policy_id=uuid.uuid4(),
        classifier="hate-v3",
        enqueue_threshold=0.6,
        decide_threshold=0.95,
        actions=("REMOVE_CONTENT", "SUSPEND_ACCOUNT:7"),
        created_at=NOW,
        updated_at=NOW,
    )
    decide, enqueue = threshold_rule_sources(rule, "HATE_SPEECH")
    reference = (VERSIONS.parents[1] / "docs" / "RULES.md").read_text()
    assert f"```text\n{decide.source}\n{enqueue.source}```" in reference
