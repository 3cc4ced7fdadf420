"""Every example rule in docs/RULES.md is defined as written (the reference cannot drift from the language)."""

from __future__ import annotations

import re
from pathlib import Path

from domain.rules.catalogue import AttrType, Catalogue, CounterKind, CounterSource, EventType, ListKind
from domain.rules.compiler import define_rule

DOC = Path(__file__).resolve().parents[3] / "docs" / "RULES.md"
TYPES = {"content.posted", "message.sent", "report.filed"}
CATALOGUE = Catalogue(
    event_types={name: EventType(name, frozenset({"account", "content"}), {"text": AttrType.STRING}) for name in TYPES},
    lists={"spam-phrases": ListKind.KEYWORD, "shorteners": ListKind.DOMAIN, "known-phish": ListKind.URL},
    signals=frozenset({"spam", "toxicity"}),
    counters={
        "reports": CounterSource("reports", CounterKind.COUNT, frozenset({"report.filed"})),
        "reporters": CounterSource("reporters", CounterKind.DISTINCT, frozenset({"report.filed"}), "reporter"),
    },
    policies=frozenset({"SPAM", "HATE_SPEECH"}),
)


def test_every_example_rule_in_the_reference_is_defined() -> None:
    blocks = re.findall(r"```\n(rule \".*?)```", DOC.read_text(), flags=re.DOTALL)
    examples = [text for block in blocks for text in re.split(r"\n\n(?=rule \")", block)]
    assert len(examples) >= 4
    for text in examples:
        rule = define_rule(text, CATALOGUE, rule_id="doc", version=1)
        assert rule.actions
