"""Hostile rule text: whatever is submitted, definition either succeeds or raises a typed ``RuleError`` (never
another exception), and a defined rule evaluates without raising."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.rules.compiler import define_rule
from domain.rules.engine import RuleSet
from domain.rules.errors import RuleError
from domain.rules.lists import ListIndex
from domain.rules.memory import Snapshot
from tests.unit.rules.support import CATALOGUE, SLOW_MACHINE, event, rule_text

TOKENS = [
    "and", "or", "not", "in", "not in", "==", "!=", "<", "<=", ">", ">=", "(", ")", "[", "]", ",", ".", "=",
    '"spam"', '"x"', '"(a+)+$"', '"\\\\1"', "1", "-2.5", "7d", "0s", "true", "false", "text", "title", "tags",
    "views", "nsfw", "account", "content", "ad", "event", "age", "labels", "status", "signal", "count", "distinct",
    "reports", "reporters", "has_keyword", "has_domain", "matches", "normalize", "len", "contains", "then", "when",
    "rule", "on", "policy", "%", "#", "\n", "\u0000", "é", "\\",
]  # fmt: skip
INDEX = ListIndex([])


def _check(text: str) -> None:
    refused: RuleError | None = None
    try:
        rule = define_rule(text, CATALOGUE, rule_id="fuzz", version=1)
    except RuleError as error:
        refused = error
    if refused is not None:
        assert refused.code
        assert refused.message
        return
    if not rule.lists:  # the empty index lacks lists; a rule reading one is refused by RuleSet, tested elsewhere
        result = RuleSet([rule], INDEX).evaluate(event("spam text", title="t"), Snapshot())
        assert result.evaluated == 1


@settings(max_examples=400, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_token_soup_conditions_fail_only_with_typed_errors(tokens: list[str]) -> None:
    _check(rule_text(" ".join(tokens)))


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(st.text(max_size=200))
def test_arbitrary_text_fails_only_with_typed_errors(text: str) -> None:
    _check(text)
    _check(rule_text(text))


def test_deep_nesting_and_long_texts_fail_typed() -> None:
    for text in (
        rule_text("not " * 5000 + "nsfw"),
        rule_text("[" * 30 + "]" * 30),
        rule_text("(" * 10_000),
        rule_text("nsfw" + " and nsfw" * 3000),
        "x" * 1_000_000,
    ):
        _check(text)
