"""Generated conditions (``codegen``) against the reference closures (``compiler._Builder``): same results, same
errors, same reads in the same order, on the corpus of rules in the tests and the reference, on the benchmark's
200 rules, on rules hypothesis writes, and on trees as deep as the language allows; and the differential check
catches an altered generator (each mutation below is found)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bench.rules as bench
from domain.rules import codegen, engine
from domain.rules.catalogue import ListKind
from domain.rules.compiler import CompiledRule, bind_condition, define_rule, reference_condition
from domain.rules.engine import DEFAULT_REGEX_MEMORY, RuleSet, _Binder
from domain.rules.language import MAX_DEPTH, MAX_NESTING
from domain.rules.lists import ListIndex, ListSnapshot
from domain.rules.ports import EntityFacts
from domain.rules.syntax import Expr
from tests.unit.rules import differential
from tests.unit.rules import test_engine as engine_tests
from tests.unit.rules.differential import LISTS, OPTIONS, bind, case, differences, fixed_cases
from tests.unit.rules.support import SLOW_MACHINE, define
from tests.unit.rules.test_docs import CATALOGUE as DOCS_CATALOGUE

CONSTRUCTS = [
    "nsfw", "not nsfw", "has(views)", "views >= 1000", "views < 2.5", "views == 1500", "views != 0",
    '"news" in tags', '"news" not in tags', 'title in ["Big DEAL", "x"]', 'title in [text, "x"]',
    'event.region in ["EU", lower(title)]', '"x" in []', 'event.type == "content.posted"', 'event.region != "US"',
    "account.age < 7d", "account.age >= 2d", "content.age > 0s", "account.age == account.age",
    'account.status == "ACTIVE"', '"ACTIVE" == account.status', "account.status != content.status",
    "account.active_strikes >= 1", "account.prior_decisions > 2", "account.region == event.region",
    '"spammer" in account.labels', '"spammer" not in content.labels', 'account.status in ["ACTIVE", title]',
    'signal("spam") > 0.5', 'signal("toxicity", account) > 0.9', 'signal("spam", content) <= signal("toxicity")',
    "count(reports, account, 1h) >= 5", "distinct(reporters, content, 24h) >= 3",
    'has_keyword(text, "spam")', 'has_keyword(normalize(title), "scam")',
    'has_keyword(lower(text), "spam") and has_keyword(text, "scam")', 'has_domain(text, "bad-domains")',
    'has_url(text, "bad-urls")', 'has_url(title, "bad-urls") or has_domain(title, "bad-domains")',
    'matches(text, "(?i)c0!ns")', 'matches(normalize(text), "free coins")', 'matches(title, "^Big")',
    'matches(text, "dm me") or matches(text, "t[.]me")', 'normalize(text) == normalize("Get FR33 C0!NS")',
    "normalize(title) == title", 'contains(text, "C0!NS")', "contains(text, title)",
    'starts_with(lower(title), "big")', "ends_with(title, account.status)", "len(title) == 8",
    "len(normalize(text)) > 3", "contains(account.status, title)", "len(account.status) > 1",
    "lower(account.status) == title", "nsfw == false", "(views > 1) == has(nsfw)",
    '(account.status == "ACTIVE" and views > 1) and nsfw', '(account.status == "X" or nsfw) and views > 1',
    '(account.status == "ACTIVE" and nsfw) or views > 1',
    '(account.active_strikes > 1 or content.status == "x") or nsfw',
    'not (account.status == "ACTIVE" and nsfw)', 'account.status == "ACTIVE" and account.status != "x"',
    'true and account.status == "ACTIVE" and account.active_strikes < 2',
    'nsfw or account.status == "x" or account.status != "y"',
    '(account.status == "A" and content.status == "B") == true',
    "true or nsfw", "nsfw and true", "nsfw or nsfw or views > 5", "true and true and nsfw",
    '((account.status == "AB" or nsfw) and views > 0) and (content.status == "C" or nsfw)',
    'has_keyword(text, "spam") and signal("spam") > 0.7 and account.age < 7d and "x" in tags',
]  # fmt: skip
"""Every construct of the language, and the and/or shapes whose operand values matter."""
ENGINE_CORPUS = [
    condition
    for condition, _ in engine_tests.test_each_construct_evaluates.pytestmark[0].args[1]  # type: ignore[attr-defined]
]
"""The conditions ``test_engine`` evaluates construct by construct."""
DOC = Path(__file__).resolve().parents[3] / "docs" / "RULES.md"
CASES = fixed_cases(120)


def _rules(conditions: list[str]) -> list[CompiledRule]:
    return [define(condition, rule_id=f"r{i}") for i, condition in enumerate(conditions)]


def test_the_rule_set_binds_generated_conditions() -> None:
    binder = _Binder(LISTS, DEFAULT_REGEX_MEMORY)
    condition = bind_condition(define('has_keyword(text, "spam") and nsfw'), binder)
    assert condition.__code__.co_filename == "<rule condition>"


@pytest.mark.parametrize("corpus", ["constructs", "engine tests"])
def test_the_corpus_reads_and_answers_as_the_closures(corpus: str) -> None:
    conditions = CONSTRUCTS if corpus == "constructs" else ENGINE_CORPUS
    assert len(conditions) > 30
    assert differences(bind(_rules(conditions)), CASES) == []


def test_each_rule_alone_reads_and_answers_as_its_closures() -> None:
    for condition in CONSTRUCTS:
        assert differences(bind(_rules([condition])), CASES[:30]) == [], condition


def test_the_reference_examples_answer_as_the_closures() -> None:
    blocks = re.findall(r"```\n(rule \".*?)```", DOC.read_text(), flags=re.DOTALL)
    texts = [text for block in blocks for text in re.split(r"\n\n(?=rule \")", block)]
    rules = [define_rule(text, DOCS_CATALOGUE, rule_id=f"d{i}", version=1) for i, text in enumerate(texts)]
    assert len(rules) >= 4
    lists = ListIndex(
        [
            ListSnapshot("spam-phrases", ListKind.KEYWORD, 1, ["free coins", "wire money"]),
            ListSnapshot("shorteners", ListKind.DOMAIN, 1, ["evil.com"]),
            ListSnapshot("known-phish", ListKind.URL, 1, ["good.org/bad"]),
        ]
    )
    assert differences(bind(rules, lists), CASES, lists) == []


# -- the benchmark's 200 rules over synthetic events -------------------------------------------------------------


LIST_WORDS = [f"{w}{i}" for i, w in enumerate(["buy", "cheap", "coins", "pills", "money", "gems", "likes"] * 3)]


def _bench_lists(rng: random.Random) -> ListIndex:
    words = LIST_WORDS
    return ListIndex(
        ListSnapshot(f"kw{i}", ListKind.KEYWORD, 1, [rng.choice(words), f"{rng.choice(words)} {rng.choice(words)}"])
        for i in range(bench.KEYWORD_LISTS)
    )


def _bench_cases(rng: random.Random, count: int) -> list[differential.Case]:
    phrases = ["buy it now", "555-123-4567", "whatsapp +123", "dm me for", "FREEFREEFREEFREE", "free likes",
               "t.me/xyz", "click here", "$$$", "gift card", "promo code", "limited offer", "win an iphone",
               "a.b.c.d/e", "btc double", "work from home", "earn $100", "hot new singles", "\U0001f4b0",
               "viagra"]  # fmt: skip
    vocabulary = ["hello", "world", "the", "a", "now", "free", "c0ins2", "ch3ap1", "g3ms12", *LIST_WORDS]
    cases = []
    for n in range(count):
        words = rng.choices(vocabulary + phrases, k=rng.randint(0, 12))
        account = EntityFacts(
            timedelta(days=rng.randint(0, 30)),
            rng.randint(0, 3),
            rng.choice(["ACTIVE", "RESTRICTED"]),
            "US",
            0,
            rng.choice([frozenset(), frozenset({"spammer"}), frozenset({"trusted"})]),
            {"toxicity": rng.random()},
        )
        choices = {
            "text": " ".join(words) if n % 17 else rng.choice([None, 7, differential.ABSENT]),
            "title": differential.ABSENT, "tags": differential.ABSENT, "views": differential.ABSENT,
            "nsfw": differential.ABSENT, "spam": differential.ABSENT, "region": "US",
            "entities": {"account": f"a{n}"} if n % 23 else {},
            "signals": {"spam": rng.random()} if rng.random() < 0.5 else {},
            "account": account if n % 19 else rng.choice([None, differential.FactsDown("down"), differential.ODD]),
            "content": None, "reports": rng.randint(0, 8), "reporters": rng.randint(0, 5),
        }  # fmt: skip
        each = case(choices)
        each.facts.counters = {**each.facts.counters, "messages": rng.randint(0, 30)}
        cases.append(each)
    return cases


def test_the_benchmark_rules_answer_as_the_closures() -> None:
    rng = random.Random(3)
    catalogue = bench.catalogue()
    rules = [
        define_rule(
            f'rule "r{i}" on content.posted in US policy SPAM when {bench.rule_condition(i)} then hold()',
            catalogue,
            rule_id=f"r{i}",
            version=1,
        )
        for i in range(bench.RULES)
    ]
    lists = _bench_lists(rng)
    cases = _bench_cases(rng, 150)
    bound = bind(rules, lists)
    hits = sum(
        outcome == ("returned", bool, True)
        for each in cases[:20]
        for outcome in differential.run(bound.generated, each, lists, bound.regex_sets)[0]
    )
    assert hits > 0  # the events make some rules hit
    assert differences(bound, cases, lists) == []


def test_a_rule_set_evaluates_as_one_of_closures(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = _rules(CONSTRUCTS + ENGINE_CORPUS)
    generated = RuleSet(rules, LISTS, budget_ns=10**15)
    monkeypatch.setattr(engine, "bind_condition", reference_condition)
    closures = RuleSet(rules, LISTS, budget_ns=10**15)
    for each in CASES:
        assert generated.evaluate(each.event, each.facts) == closures.evaluate(each.event, each.facts)


# -- rules hypothesis writes -------------------------------------------------------------------------------------

STRINGS = st.one_of(
    st.sampled_from(['"free coins"', '""', '"EU"', '"ACTIVE"', '"Big DEAL"', "text", "title", "event.type",
                     "event.region", "account.status", "content.region", "account.region"]),
).flatmap(
    lambda leaf: st.sampled_from([leaf, f"normalize({leaf})", f"lower({leaf})", f"normalize(lower({leaf}))"])
)  # fmt: skip
NUMBERS = st.one_of(
    st.sampled_from(["0", "1", "2.5", "-1", "1000", "views", "account.active_strikes", "content.prior_decisions",
                     'signal("spam")', 'signal("toxicity", account)', 'signal("spam", content)',
                     "count(reports, account, 1h)", "distinct(reporters, content, 24h)"]),
    STRINGS.map(lambda s: f"len({s})"),
)  # fmt: skip
DURATIONS = st.sampled_from(["7d", "0s", "1h", "account.age", "content.age"])
LISTS_OF_STRINGS = st.one_of(
    st.sampled_from(["tags", "account.labels", '["news", "x"]', "[]"]),
    st.lists(STRINGS, min_size=1, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
)
COMPARISONS = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
REGEXES = st.sampled_from(['"free"', '"(?i)c[o0]ins?"', '"^[a-z ]+$"', '"x|y"', '"t[.]me"'])
BOOL_ATOMS = st.one_of(
    st.sampled_from(["true", "false", "nsfw", "has(views)", "has(nsfw)"]),
    st.tuples(NUMBERS, COMPARISONS, NUMBERS).map(" ".join),
    st.tuples(DURATIONS, COMPARISONS, DURATIONS).map(" ".join),
    st.tuples(STRINGS, st.sampled_from(["==", "!="]), STRINGS).map(" ".join),
    st.tuples(STRINGS, st.sampled_from(["in", "not in"]), LISTS_OF_STRINGS).map(" ".join),
    st.tuples(st.sampled_from(['has_keyword({}, "spam")', 'has_keyword({}, "scam")', 'has_domain({}, "bad-domains")',
                               'has_url({}, "bad-urls")']), STRINGS).map(lambda t: t[0].format(t[1])),
    st.tuples(STRINGS, REGEXES).map(lambda t: f"matches({t[0]}, {t[1]})"),
    st.tuples(st.sampled_from(["contains", "starts_with", "ends_with"]), STRINGS, STRINGS).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]})"
    ),
)  # fmt: skip


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        inner.map(lambda b: f"not ({b})"),
        st.lists(inner, min_size=2, max_size=4).map(lambda bs: " and ".join(f"({b})" for b in bs)),
        st.lists(inner, min_size=2, max_size=4).map(lambda bs: " or ".join(f"({b})" for b in bs)),
        st.tuples(inner, st.sampled_from(["==", "!="]), inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
    )


CONDITIONS = st.recursive(BOOL_ATOMS, _extend, max_leaves=8)
CHOICES = st.fixed_dictionaries({name: st.sampled_from(list(values)) for name, values in OPTIONS.items()})


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(st.lists(CONDITIONS, min_size=1, max_size=4), st.lists(CHOICES, min_size=1, max_size=3))
def test_written_rules_read_and_answer_as_the_closures(conditions: list[str], choices: list[dict[str, object]]) -> None:
    assert differences(bind(_rules(conditions)), [case(c) for c in choices]) == []


def test_trees_as_deep_as_the_language_allows_answer_as_the_closures() -> None:
    deep = "nsfw"
    for level in range(MAX_NESTING - 1):
        deep = f'not ({deep} or account.status == "ACTIVE")' if level % 2 else f"(views > {level} and {deep})"
    nots = "not " * (MAX_DEPTH - 2) + "(views > 1)"
    chained = " and ".join(f'(has_keyword(text, "spam") or "{i}" in tags)' for i in range(300))
    rules = _rules([deep, nots, chained])
    assert codegen._LIFT < MAX_DEPTH
    assert differences(bind(rules), CASES) == []


# -- the check catches an altered generator ----------------------------------------------------------------------


def _unwrap(source: str) -> str:
    """``(x,)[0]`` -> ``x``, first occurrence."""
    end = source.find(",)[0]")
    depth, start = 0, end - 1
    while True:
        depth += {")": 1, "(": -1}.get(source[start], 0)
        if depth == 0:
            break
        start -= 1
    return source[: start - 1] + source[start:end] + source[end + 5 :]


def _reversed_pairs(self: Any, operands: tuple[Expr, ...], word: str, depth: int) -> str:
    parts = [self.expr(o, depth) for o in operands][::-1] if len(operands) == 2 else None
    return f"({parts[0]} {word} {parts[1]})" if parts else ORIGINAL_BOOL_OP(self, operands, word, depth)


def _chains(self: Any, operands: tuple[Expr, ...], word: str, depth: int) -> str:
    return "(" + f" {word} ".join(self.expr(o, depth) for o in operands) + ")"


ORIGINAL_BOOL_OP = codegen._Source._bool_op
SOURCE_MUTATIONS: dict[str, Callable[[str], str]] = {
    "an and made or": lambda s: s.replace(" and ", " or ", 1),
    "an or made and": lambda s: s.replace(" or ", " and ", 1),
    "< made <=": lambda s: s.replace(" < ", " <= ", 1),
    "== made !=": lambda s: s.replace(" == ", " != ", 1),
    "not in made in": lambda s: s.replace(" not in ", " in ", 1),
    "a mask's & made |": lambda s: s.replace(" & ", " | ", 1),
    "an age in .seconds": lambda s: s.replace(".age.total_seconds()", ".age.seconds", 1),
    "a string checked by isinstance": lambda s: s.replace("type(_a) is str", "isinstance(_a, str)", 1),
    "a bool checked as an int": lambda s: s.replace("type(_a) is bool", "isinstance(_a, int)", 1),
    "an absent attribute read as None": lambda s: re.sub(r"\(_k\d+ if \(_a :=", "(None if (_a :=", s, count=1),
    "a first operand not wrapped": lambda s: _unwrap(s) if ",)[0]" in s else s,
}
GENERATOR_MUTATIONS = {"two operands swapped": _reversed_pairs, "n operands chained": _chains}


@pytest.mark.parametrize("mutation", [*SOURCE_MUTATIONS, *GENERATOR_MUTATIONS])
def test_an_altered_generator_is_caught(mutation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if mutation in SOURCE_MUTATIONS:
        mutate = SOURCE_MUTATIONS[mutation]
        monkeypatch.setattr(codegen, "_code", lambda source: compile(mutate(source), "<mutant>", "exec"))
    else:
        monkeypatch.setattr(codegen._Source, "_bool_op", GENERATOR_MUTATIONS[mutation])
    assert differences(bind(_rules(CONSTRUCTS + ENGINE_CORPUS)), CASES[:60]) != []
