"""Properties: the shared structures (one automaton for all keyword lists, one RE2 set per field) answer exactly
what matching each list and each regex on its own answers."""

from __future__ import annotations

import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.rules.catalogue import ListKind
from domain.rules.engine import RuleSet
from domain.rules.lists import ListIndex, ListSnapshot, keyword_key
from domain.rules.memory import Snapshot
from domain.rules.normalise import normalise
from tests.unit.rules.support import SLOW_MACHINE, define, event

WORDS = st.sampled_from(["free", "coins", "fr33", "c0!ns", "cheap", "pills", "wire", "money", "hello", "he11o", "a"])
TERMS = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)
SEPARATORS = st.sampled_from([" ", "  ", ", ", "! ", "\n", " - ", "..."])


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(st.lists(st.lists(TERMS, min_size=1, max_size=5), min_size=1, max_size=4), st.lists(WORDS, max_size=12),
       SEPARATORS)  # fmt: skip
def test_one_automaton_answers_what_scanning_each_list_answers(
    lists: list[list[str]], words: list[str], separator: str
) -> None:
    index = ListIndex([ListSnapshot(f"l{i}", ListKind.KEYWORD, 1, terms) for i, terms in enumerate(lists)])
    text = separator.join(words)
    padded = f" {normalise(text)} "
    mask = index.keyword_mask(normalise(text))
    for i, terms in enumerate(lists):
        alone = any(keyword_key(term) in padded for term in terms if keyword_key(term))
        assert bool(mask & (index.bit(f"l{i}", ListKind.KEYWORD) or 0)) is alone


PATTERNS = ["free", "(?i)FREE", "c[o0]ins?", r"\bpills\b", "^he", "y$", r"\d{2,}", "(a+)+b", "m.n", "[^a-z ]"]


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=6, unique=True), st.lists(WORDS, max_size=10))
def test_one_regex_set_answers_what_each_regex_answers(patterns: list[str], words: list[str]) -> None:
    rules = [
        define(f"matches(text, {_quote(p)})", rule_id=f"r{i}", on="content.posted") for i, p in enumerate(patterns)
    ]
    text = " ".join(words)
    hits = {h.rule_id for h in RuleSet(rules, ListIndex([])).evaluate(event(text), Snapshot()).hits}
    assert hits == {f"r{i}" for i, p in enumerate(patterns) if re2.search(p, text)}


def _quote(pattern: str) -> str:
    return '"' + pattern.replace("\\", "\\\\") + '"'
